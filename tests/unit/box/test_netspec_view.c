/* ps PORTS text and inspect port maps in Docker's shapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "box/netspec_view.h"

static const struct bx_port sample[] = {
	{"127.0.0.1", 49153, 80, "tcp", 0},
	{"", 8053, 53, "udp", 0},
	{"::1", 8080, 80, "tcp", 0},
};

static void display_docker_text(void **state)
{
	(void)state;
	char out[256];
	bx_ports_display(sample, 3, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:49153->80/tcp, 0.0.0.0:8053->53/udp, [::1]:8080->80/tcp");
	bx_ports_display(sample, 0, out, sizeof(out));
	assert_string_equal(out, "");
	/* too short: whole entries only */
	bx_ports_display(sample, 3, out, 30);
	assert_string_equal(out, "127.0.0.1:49153->80/tcp");
}

/* -p ranges are stored one mapping per port; ps shows a run on the same
 * numbers as one range, as Docker does, and other mappings one by one */
static void display_ranges(void **state)
{
	(void)state;
	const struct bx_port r[] = {
		{"127.0.0.1", 9000, 9000, "udp", 0}, {"127.0.0.1", 9001, 9001, "udp", 0},
		{"", 8000, 80, "tcp", 0},            {"", 8001, 81, "tcp", 0},
		{"", 5000, 5000, "tcp", 0},          {"", 5001, 5001, "udp", 0}, /* other protocol: no run */
		{"", 5002, 5002, "udp", 0},          {"::1", 5003, 5003, "udp", 0}, /* other address: no run */
		{"", 7001, 7001, "tcp", 0},          {"", 7000, 7000, "tcp", 0}, /* descending: no run */
	};
	char out[512];
	bx_ports_display(r, 10, out, sizeof(out));
	assert_string_equal(out, "127.0.0.1:9000-9001->9000-9001/udp, 0.0.0.0:8000->80/tcp, 0.0.0.0:8001->81/tcp, "
				 "0.0.0.0:5000->5000/tcp, 0.0.0.0:5001-5002->5001-5002/udp, [::1]:5003->5003/udp, "
				 "0.0.0.0:7001->7001/tcp, 0.0.0.0:7000->7000/tcp");
	json_t *j = bx_ports_json(r, 2, true);
	char *t = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(t, "{\"9000/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9000\"}],"
			       "\"9001/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"9001\"}]}");
	free(t);
	json_decref(j);
}

static void json_groups_by_guest_port(void **state)
{
	(void)state;
	json_t *live = bx_ports_json(sample, 3, true);
	char *t = json_dumps(live, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(t, "{\"80/tcp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"49153\"},"
			       "{\"HostIp\":\"::1\",\"HostPort\":\"8080\"}],"
			       "\"53/udp\":[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"8053\"}]}");
	free(t);
	json_decref(live);
	json_t *bind = bx_ports_json(sample + 1, 1, false);
	t = json_dumps(bind, JSON_COMPACT);
	assert_string_equal(t, "{\"53/udp\":[{\"HostIp\":\"\",\"HostPort\":\"8053\"}]}");
	free(t);
	json_decref(bind);
	json_t *none = bx_ports_json(NULL, 0, true);
	assert_int_equal(json_object_size(none), 0);
	json_decref(none);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(display_docker_text),
		cmocka_unit_test(display_ranges),
		cmocka_unit_test(json_groups_by_guest_port),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
