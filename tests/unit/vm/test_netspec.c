#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/netspec.h"

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
	/* bx_port_parse (the io.boxvm.ports annotation) takes single ports only */
	port_bad("8000-8001:80-81", "ranges are not supported");
	port_bad("8000-8001:80", "ranges are not supported");
	port_bad("[::1:80", "use [IP:]");
}

struct want {
	const char *ip;
	int host, guest;
	const char *proto;
	int host_last;
};

static void publish_ok(const char *text, int n, const struct want *w)
{
	struct bx_port p[BX_MAX_PORTS];
	struct bx_err err = {0};
	memset(p, 0x5a, sizeof(p));
	assert_int_equal(bx_publish_parse(text, p, BX_MAX_PORTS, &err), n);
	for (int i = 0; i < n; i++) {
		assert_string_equal(p[i].host_ip, w[i].ip);
		assert_int_equal(p[i].host_port, w[i].host);
		assert_int_equal(p[i].guest_port, w[i].guest);
		assert_string_equal(p[i].proto, w[i].proto);
		assert_int_equal(p[i].host_port_last, w[i].host_last);
	}
}

static void publish_bad(const char *text, const char *needle)
{
	struct bx_port p[BX_MAX_PORTS];
	struct bx_err err = {0};
	assert_int_equal(bx_publish_parse(text, p, BX_MAX_PORTS, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("'%s': got '%s', want '%s'", text, err.msg, needle);
}

static void test_publish_ranges(void **state)
{
	/* single ports parse as before */
	publish_ok("127.0.0.1:8080:80", 1, (struct want[]){{"127.0.0.1", 8080, 80, "tcp", 0}});
	publish_ok("53/udp", 1, (struct want[]){{"", 0, 53, "udp", 0}});
	/* equal ranges pair up in order */
	publish_ok("8000-8002:80-82", 3,
		   (struct want[]){{"", 8000, 80, "tcp", 0}, {"", 8001, 81, "tcp", 0}, {"", 8002, 82, "tcp", 0}});
	publish_ok("127.0.0.1:9000-9001:9000-9001/udp", 2,
		   (struct want[]){{"127.0.0.1", 9000, 9000, "udp", 0}, {"127.0.0.1", 9001, 9001, "udp", 0}});
	publish_ok("[::1]:7000-7001:70-71", 2, (struct want[]){{"::1", 7000, 70, "tcp", 0}, {"::1", 7001, 71, "tcp", 0}});
	/* a container range alone, or with an empty host part: free host ports */
	publish_ok("80-82", 3, (struct want[]){{"", 0, 80, "tcp", 0}, {"", 0, 81, "tcp", 0}, {"", 0, 82, "tcp", 0}});
	publish_ok("127.0.0.1::80-81/udp", 2,
		   (struct want[]){{"127.0.0.1", 0, 80, "udp", 0}, {"127.0.0.1", 0, 81, "udp", 0}});
	/* a host range for one container port: the range to pick from */
	publish_ok("8000-8010:80", 1, (struct want[]){{"", 8000, 80, "tcp", 8010}});
	publish_ok("1-1:65535-65535", 1, (struct want[]){{"", 1, 65535, "tcp", 0}});
	/* a range that fills the box's limit exactly, and one past it */
	struct bx_port p[BX_MAX_PORTS];
	struct bx_err err = {0};
	char spec[64];
	snprintf(spec, sizeof(spec), "1000-%d", 1000 + BX_MAX_PORTS - 1);
	assert_int_equal(bx_publish_parse(spec, p, BX_MAX_PORTS, &err), BX_MAX_PORTS);
	assert_int_equal(p[BX_MAX_PORTS - 1].guest_port, 1000 + BX_MAX_PORTS - 1);
	assert_int_equal(bx_publish_parse("80-81", p, 1, &err), -1);
	assert_non_null(strstr(err.msg, "too many"));
}

static void test_publish_range_errors(void **state)
{
	publish_bad("8000-8002:80-81", "Invalid ranges specified for container and host Ports: 80-81 and 8000-8002");
	publish_bad("127.0.0.1:8000-8001:80-82/udp", "Invalid ranges specified for container and host Ports");
	publish_bad("0:80-82", "Invalid ranges specified"); /* as Docker: a host part must match the range */
	publish_bad("82-80", "invalid container port range '82-80'");
	publish_bad("8002-8000:80-82", "invalid host port range '8002-8000'");
	publish_bad("80-70000", "invalid container port '80-70000'");
	publish_bad("0-2", "invalid container port '0-2'");
	publish_bad("0-2:80-82", "invalid host port '0-2'");
	publish_bad("65535-65536:80-81", "invalid host port");
	publish_bad("80-", "invalid container port");
	publish_bad("-80", "invalid container port");
	publish_bad("80-81-82", "invalid container port");
	publish_bad("1.2.3:8000-8001:80-81", "invalid IP address");
	publish_bad("8000-8001:80-81/sctp", "protocol must be tcp or udp");
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
	assert_int_equal(bx_dns_search_parse("example.com", &err), 0);
	assert_int_equal(bx_dns_search_parse("corp.example.com.", &err), 0);
	assert_int_equal(bx_dns_search_parse("a-b.c1", &err), 0);
	assert_int_equal(bx_dns_search_parse(".", &err), 0);
	const char *bad_domains[] = {"", "a b", "ex ample.com", "-a.com", "a-.com", "a..b", ".a", "a_b.com", "a.com\t"};
	for (size_t i = 0; i < sizeof(bad_domains) / sizeof(*bad_domains); i++) {
		assert_int_equal(bx_dns_search_parse(bad_domains[i], &err), -1);
		assert_non_null(strstr(err.msg, "invalid --dns-search"));
	}
	assert_int_equal(bx_dns_option_parse("ndots:2", &err), 0);
	assert_int_equal(bx_dns_option_parse("edns0", &err), 0);
	assert_int_equal(bx_dns_option_parse("", &err), -1);
	assert_int_equal(bx_dns_option_parse("ndots:2 edns0", &err), -1);
	assert_non_null(strstr(err.msg, "invalid --dns-option 'ndots:2 edns0'"));
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
	assert_int_equal(bx_etc_resolv(NULL, NULL, NULL, &text, &err), 0);
	assert_string_equal(text, "nameserver " BX_NET_DNS "\n");
	free(text);
	char *dns[] = {"1.1.1.1", "8.8.8.8", NULL};
	assert_int_equal(bx_etc_resolv(dns, NULL, NULL, &text, &err), 0);
	assert_string_equal(text, "nameserver 1.1.1.1\nnameserver 8.8.8.8\n");
	free(text);
	char *search[] = {"a.example", "b.example", NULL}, *options[] = {"ndots:2", "edns0", NULL};
	assert_int_equal(bx_etc_resolv(dns, search, options, &text, &err), 0);
	assert_string_equal(text, "nameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch a.example b.example\n"
				  "options ndots:2 edns0\n");
	free(text);
	assert_int_equal(bx_etc_resolv(NULL, NULL, options, &text, &err), 0);
	assert_string_equal(text, "nameserver " BX_NET_DNS "\noptions ndots:2 edns0\n");
	free(text);
	/* "--dns-search ." = no search domains: no search line */
	char *dot[] = {".", NULL};
	assert_int_equal(bx_etc_resolv(NULL, dot, NULL, &text, &err), 0);
	assert_string_equal(text, "nameserver " BX_NET_DNS "\n");
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

/* a TCP listener on 127.0.0.1:port (0: any, *port set); -1 if the port is taken */
static int listen_on(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons((uint16_t)*port)};
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0 || listen(fd, 1) < 0) {
		close(fd);
		return -1;
	}
	socklen_t sl = sizeof(sin);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &sl), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void test_ports_reserve_host_range(void **state)
{
	/* four free ports base..base+3; the test holds base and base+1 */
	int base = 0, fds[4] = {-1, -1, -1, -1};
	for (int tries = 0; tries < 50 && fds[3] < 0; tries++) {
		for (int i = 0; i < 4; i++)
			if (fds[i] >= 0)
				close(fds[i]), fds[i] = -1;
		base = 0;
		fds[0] = listen_on(&base);
		if (base > 65532)
			continue;
		for (int i = 1; i < 4; i++) {
			int port = base + i;
			if ((fds[i] = listen_on(&port)) < 0)
				break;
		}
	}
	assert_true(fds[3] >= 0);
	close(fds[2]);
	close(fds[3]);
	struct bx_err err = {0};
	/* every port of the range busy: a clear error naming the range */
	struct bx_port all = {.host_ip = "127.0.0.1", .host_port = base, .guest_port = 80, .proto = "tcp",
			      .host_port_last = base + 1};
	assert_int_equal(bx_ports_reserve(&all, 1, &err), -1);
	char want[96];
	snprintf(want, sizeof(want), "127.0.0.1:%d-%d/tcp failed: every port of the range", base, base + 1);
	if (!strstr(err.msg, want))
		fail_msg("got '%s', want '%s'", err.msg, want);
	/* the first free one is taken, skipping the busy ones and one the box publishes already */
	struct bx_port two[2] = {{.host_ip = "127.0.0.1", .host_port = base + 2, .guest_port = 81, .proto = "tcp"},
				 {.host_ip = "127.0.0.1", .host_port = base, .guest_port = 80, .proto = "tcp",
				  .host_port_last = base + 3}};
	assert_int_equal(bx_ports_reserve(two, 2, &err), 0);
	assert_int_equal(two[0].host_port, base + 2);
	assert_int_equal(two[1].host_port, base + 3);
	assert_int_equal(two[1].host_port_last, 0);
	/* the same with the range first: it still leaves base+2 to the later, explicit -p */
	struct bx_port swapped[2] = {{.host_ip = "127.0.0.1", .host_port = base, .guest_port = 80, .proto = "tcp",
				      .host_port_last = base + 3},
				     {.host_ip = "127.0.0.1", .host_port = base + 2, .guest_port = 81, .proto = "tcp"}};
	assert_int_equal(bx_ports_reserve(swapped, 2, &err), 0);
	assert_int_equal(swapped[0].host_port, base + 3);
	assert_int_equal(swapped[1].host_port, base + 2);
	close(fds[0]);
	close(fds[1]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_forms),    cmocka_unit_test(test_port_errors),
		cmocka_unit_test(test_port_format),   cmocka_unit_test(test_network_names),
		cmocka_unit_test(test_add_host_and_dns), cmocka_unit_test(test_etc_files),
		cmocka_unit_test(test_ports_reserve), cmocka_unit_test(test_publish_ranges),
		cmocka_unit_test(test_publish_range_errors), cmocka_unit_test(test_ports_reserve_host_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
