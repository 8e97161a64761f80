/* Pod port following's pure part: /proc/net/tcp{,6} read for listeners, the
 * port sets and their wire form (a hostile guest's included). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>

#include "proto/podnet.h"

/* real lines from a guest: httpd on *:8080 (v4), nc on 127.0.0.1:9090, an
 * established connection on 8080 (not a listener), sshd on [::]:22, a
 * server on ::1:7000 */
static const char tcp4[] =
	"  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1234 1 0 100 0 0 10 0\n"
	"   1: 0100007F:2382 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1235 1 0 100 0 0 10 0\n"
	"   2: 0F02000A:1F90 0202000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 1236 1 0 20 4 30 10 -1\n";
static const char tcp6[] =
	"  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
	"   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 99 1 0 100 0 0 10 0\n"
	"   1: 00000000000000000000000001000000:1B58 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 98 1 0 100 0 0 10 0\n";

static void test_listeners_from_proc(void **state)
{
	(void)state;
	struct bx_portset set = {0};
	bx_portset_add_proc(&set, tcp4, false);
	bx_portset_add_proc(&set, tcp6, true);
	assert_int_equal(set.n, 4);
	uint16_t want[] = {22, 7000, 8080, 9090};
	bool loop[] = {false, true, false, true};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(set.p[i].port, want[i]);
		assert_int_equal(set.p[i].loopback, loop[i]);
	}
	/* a port with a loopback and a wildcard listener is served beyond loopback */
	bx_portset_add(&set, 9090, false);
	assert_false(bx_portset_find(&set, 9090)->loopback);
	assert_null(bx_portset_find(&set, 80));
}

static void test_garbage_is_not_a_listener(void **state)
{
	(void)state;
	struct bx_portset set = {0};
	bx_portset_add_proc(&set, "", false);
	bx_portset_add_proc(&set, "   0: 0000000Z:1F90 00000000:0000 0A\n", false);
	bx_portset_add_proc(&set, "   0: 00000000:1F90 00000000:0000", false);     /* cut short */
	bx_portset_add_proc(&set, "   0: 00000000:0000 00000000:0000 0A\n", false); /* port 0 */
	bx_portset_add_proc(&set, tcp6, false); /* v6 text read as v4 */
	assert_int_equal(set.n, 0);
}

static void test_bounded(void **state)
{
	(void)state;
	struct bx_portset set = {0};
	for (int p = 65535; p > 0; p--)
		bx_portset_add(&set, (uint16_t)p, false);
	assert_int_equal(set.n, BX_PODNET_MAX_PORTS);
	assert_true(set.truncated);
	assert_int_equal(set.p[0].port, 65536 - BX_PODNET_MAX_PORTS);
}

static void test_wire_roundtrip_and_refusals(void **state)
{
	(void)state;
	struct bx_portset set = {0}, back;
	bx_portset_add_proc(&set, tcp4, false);
	bx_portset_add_proc(&set, tcp6, true);
	uint8_t buf[BX_PODNET_WIRE_MAX];
	size_t n = bx_portset_encode(&set, buf, sizeof(buf));
	assert_int_equal(n, 12);
	struct bx_err err;
	assert_int_equal(bx_portset_decode(&back, buf, n, &err), 0);
	assert_true(bx_portset_equal(&set, &back));
	assert_int_equal(bx_portset_decode(&back, buf, 0, &err), 0);
	assert_int_equal(back.n, 0);

	uint8_t odd[] = {1, 0};
	assert_int_equal(bx_portset_decode(&back, odd, sizeof(odd), &err), -1);
	uint8_t unsorted[] = {2, 0, 0, 1, 0, 0};
	assert_int_equal(bx_portset_decode(&back, unsorted, sizeof(unsorted), &err), -1);
	uint8_t twice[] = {2, 0, 0, 2, 0, 0};
	assert_int_equal(bx_portset_decode(&back, twice, sizeof(twice), &err), -1);
	uint8_t zero[] = {0, 0, 0};
	assert_int_equal(bx_portset_decode(&back, zero, sizeof(zero), &err), -1);
	uint8_t flags[] = {2, 0, 2};
	assert_int_equal(bx_portset_decode(&back, flags, sizeof(flags), &err), -1);
	uint8_t *many = calloc(3, BX_PODNET_MAX_PORTS + 1);
	for (int i = 0; i <= BX_PODNET_MAX_PORTS; i++)
		many[3 * i] = (uint8_t)(i + 1);
	assert_int_equal(bx_portset_decode(&back, many, 3 * (BX_PODNET_MAX_PORTS + 1), &err), -1);
	free(many);
}

static void test_where_to_connect(void **state)
{
	(void)state;
	struct sockaddr_storage ss;
	socklen_t len;
	char ip[64];
	/* *:8080 (v4): the loopback */
	assert_int_equal(bx_podnet_listener_addr(tcp4, tcp6, 8080, &ss, &len), 0);
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;
	assert_int_equal(in->sin_family, AF_INET);
	assert_int_equal(ntohs(in->sin_port), 8080);
	assert_string_equal(inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)), "127.0.0.1");
	/* [::]:22: ::1 */
	assert_int_equal(bx_podnet_listener_addr(tcp4, tcp6, 22, &ss, &len), 0);
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
	assert_int_equal(in6->sin6_family, AF_INET6);
	assert_string_equal(inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip)), "::1");
	assert_int_equal(len, sizeof(*in6));
	/* a listener on one address: that one */
	static const char one[] = "   0: 0F02000A:0050 00000000:0000 0A 00000000:00000000\n";
	assert_int_equal(bx_podnet_listener_addr(one, "", 80, &ss, &len), 0);
	assert_string_equal(inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip)), "10.0.2.15");
	assert_int_equal(bx_podnet_listener_addr(tcp4, tcp6, 81, &ss, &len), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_listeners_from_proc),
		cmocka_unit_test(test_garbage_is_not_a_listener),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_wire_roundtrip_and_refusals),
		cmocka_unit_test(test_where_to_connect),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
