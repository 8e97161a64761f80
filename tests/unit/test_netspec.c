#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "lib/netspec.h"

static void port_ok(const char *text, const char *ip, int host, int guest, const char *proto)
{
	struct bx_port p;
	struct bx_err err = {0};
	assert_int_equal(bx_port_parse(text, &p, &err), 0);
	assert_string_equal(p.host_ip, ip);
	assert_int_equal(p.host_port, host);
	assert_int_equal(p.guest_port, guest);
	assert_string_equal(p.proto, proto);
}

static void port_bad(const char *text, const char *needle)
{
	struct bx_port p;
	struct bx_err err = {0};
	assert_int_equal(bx_port_parse(text, &p, &err), -1);
	assert_non_null(strstr(err.msg, needle));
}

static void test_port_forms(void **state)
{
	port_ok("80", "", 0, 80, "tcp");
	port_ok("8080:80", "", 8080, 80, "tcp");
	port_ok("127.0.0.1:8080:80", "127.0.0.1", 8080, 80, "tcp");
	port_ok("127.0.0.1::80", "127.0.0.1", 0, 80, "tcp");
	port_ok("0:53/udp", "", 0, 53, "udp");
	port_ok("0.0.0.0:1:2/tcp", "", 1, 2, "tcp");
	port_ok("[::1]:8080:80", "::1", 8080, 80, "tcp");
}

static void test_port_errors(void **state)
{
	port_bad("", "invalid publish spec");
	port_bad("abc", "invalid container port");
	port_bad("0", "invalid container port");
	port_bad("70000", "invalid container port");
	port_bad("x:80", "invalid host port");
	port_bad("1.2.3:80:80", "invalid IP address");
	port_bad("80/sctp", "protocol must be tcp or udp");
	port_bad("8000-8001:80", "ranges are not supported");
	port_bad("[::1:80", "use [IP:]");
}

static void test_port_format(void **state)
{
	struct bx_port p = {.host_ip = "", .host_port = 8080, .guest_port = 80, .proto = "tcp"};
	char buf[128];
	bx_port_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "80/tcp -> 0.0.0.0:8080");
	snprintf(p.host_ip, sizeof(p.host_ip), "::1");
	bx_port_format(&p, buf, sizeof(buf));
	assert_string_equal(buf, "80/tcp -> [::1]:8080");
}

static void test_network_names(void **state)
{
	bool on = false;
	struct bx_err err = {0};
	assert_int_equal(bx_network_parse("default", &on, &err), 0);
	assert_true(on);
	assert_int_equal(bx_network_parse("none", &on, &err), 0);
	assert_false(on);
	assert_int_equal(bx_network_parse("bridge", &on, &err), 0);
	assert_true(on);
	assert_int_equal(bx_network_parse("mynet", &on, &err), -1);
	assert_non_null(strstr(err.msg, "network mynet not found"));
}

static void test_add_host_and_dns(void **state)
{
	char line[256];
	struct bx_err err = {0};
	assert_int_equal(bx_add_host_parse("db:10.0.0.5", line, sizeof(line), &err), 0);
	assert_string_equal(line, "10.0.0.5\tdb");
	assert_int_equal(bx_add_host_parse("h:host-gateway", line, sizeof(line), &err), 0);
	assert_string_equal(line, BX_NET_GATEWAY "\th");
	assert_int_equal(bx_add_host_parse("v6:::1", line, sizeof(line), &err), 0);
	assert_string_equal(line, "::1\tv6");
	assert_int_equal(bx_add_host_parse("db", line, sizeof(line), &err), -1);
	assert_int_equal(bx_add_host_parse("db:nope", line, sizeof(line), &err), -1);
	assert_int_equal(bx_add_host_parse("b d:1.2.3.4", line, sizeof(line), &err), -1);
	assert_int_equal(bx_dns_parse("1.1.1.1", &err), 0);
	assert_int_equal(bx_dns_parse("one", &err), -1);
}

static void test_etc_files(void **state)
{
	struct bx_err err = {0};
	char *text = NULL;
	char *hosts[] = {"10.0.0.5\tdb", NULL};
	assert_int_equal(bx_etc_hosts("h1", true, hosts, &text, &err), 0);
	assert_non_null(strstr(text, "127.0.0.1\tlocalhost\n"));
	assert_non_null(strstr(text, BX_NET_GUEST_ADDR "\th1\n"));
	assert_non_null(strstr(text, "10.0.0.5\tdb\n"));
	free(text);
	assert_int_equal(bx_etc_hosts("h1", false, NULL, &text, &err), 0);
	assert_null(strstr(text, BX_NET_GUEST_ADDR));
	free(text);
	assert_int_equal(bx_etc_resolv(NULL, &text, &err), 0);
	assert_string_equal(text, "nameserver " BX_NET_DNS "\n");
	free(text);
	char *dns[] = {"1.1.1.1", "8.8.8.8", NULL};
	assert_int_equal(bx_etc_resolv(dns, &text, &err), 0);
	assert_string_equal(text, "nameserver 1.1.1.1\nnameserver 8.8.8.8\n");
	free(text);
}

static void test_ports_reserve(void **state)
{
	struct bx_err err = {0};
	struct bx_port p[2] = {{.host_ip = "127.0.0.1", .host_port = 0, .guest_port = 80, .proto = "tcp"},
			       {.host_ip = "127.0.0.1", .host_port = 0, .guest_port = 53, .proto = "udp"}};
	assert_int_equal(bx_ports_reserve(p, 2, &err), 0);
	assert_true(p[0].host_port > 0 && p[1].host_port > 0);
	/* a duplicate host port is refused before probing */
	struct bx_port d[2] = {{.host_ip = "", .host_port = 40123, .guest_port = 80, .proto = "tcp"},
			       {.host_ip = "127.0.0.1", .host_port = 40123, .guest_port = 81, .proto = "tcp"}};
	assert_int_equal(bx_ports_reserve(d, 2, &err), -1);
	assert_non_null(strstr(err.msg, "published twice"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_forms),    cmocka_unit_test(test_port_errors),
		cmocka_unit_test(test_port_format),   cmocka_unit_test(test_network_names),
		cmocka_unit_test(test_add_host_and_dns), cmocka_unit_test(test_etc_files),
		cmocka_unit_test(test_ports_reserve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
