/* CIDR parsing, pools, overlap and IP assignment of named networks (src/vm/netcidr.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vm/netcidr.h"

static struct bx_cidr cidr(const char *t)
{
	struct bx_cidr c;
	struct bx_err err;
	assert_int_equal(bx_cidr_parse(t, &c, &err), 0);
	return c;
}

static void parses_and_normalizes(void **state)
{
	char buf[32];
	struct bx_cidr c = cidr("10.1.2.3/16");
	bx_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "10.1.0.0/16");
	c = cidr("192.168.0.0/30");
	assert_int_equal(c.prefix, 30);
	uint32_t ip;
	assert_int_equal(bx_ip_parse("255.255.255.255", &ip), 0);
	assert_int_equal(ip, 0xffffffffu);
	bx_ip_format(0xac120002u, buf, sizeof(buf));
	assert_string_equal(buf, "172.18.0.2");
}

static void rejects_with_dockers_words(void **state)
{
	static const char *const bad[] = {"foo", "10.1.2.3", "10.1.0.0/33", "10.1.0.0/", "10.1.0/16", "1.2.3.4/16x",
					  "256.1.1.1/8", "1.2.3.4.5/8", "01234.1.1.1/8", "/8", "", "1.2.3.4/100", NULL};
	for (int i = 0; bad[i]; i++) {
		struct bx_cidr c;
		struct bx_err err = {0};
		assert_int_equal(bx_cidr_parse(bad[i], &c, &err), -1);
		char want[128];
		snprintf(want, sizeof(want), "Invalid subnet %s : invalid CIDR address: %s", bad[i], bad[i]);
		assert_string_equal(err.msg, want);
	}
	struct bx_cidr c;
	struct bx_err err = {0};
	assert_int_equal(bx_cidr_parse("10.0.0.0/31", &c, &err), -1); /* no room for a gateway and a box */
	assert_int_equal(bx_cidr_parse("10.0.0.0/4", &c, &err), -1);
}

static void overlaps(void **state)
{
	struct bx_cidr a = cidr("10.5.0.0/16"), b = cidr("10.5.3.0/24"), c = cidr("10.6.0.0/16");
	assert_true(bx_cidr_overlap(&a, &b));
	assert_true(bx_cidr_overlap(&b, &a));
	assert_false(bx_cidr_overlap(&a, &c));
	assert_true(bx_cidr_contains(&a, 0x0a05ffffu));
	assert_false(bx_cidr_contains(&b, 0x0a050401u));
}

static void default_pools(void **state)
{
	struct bx_cidr c;
	char buf[32];
	assert_int_equal(bx_cidr_default_pool(0, &c), 0);
	bx_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "172.18.0.0/16");
	assert_int_equal(bx_cidr_default_pool(13, &c), 0);
	bx_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "172.31.0.0/16");
	assert_int_equal(bx_cidr_default_pool(15, &c), 0);
	bx_cidr_format(&c, buf, sizeof(buf));
	assert_string_equal(buf, "192.168.16.0/20");
	assert_int_equal(bx_cidr_default_pool(30, &c), -1);
	assert_int_equal(bx_cidr_default_pool(-1, &c), -1);
}

static void ipam_picks_the_lowest_free(void **state)
{
	struct bx_cidr c = cidr("10.0.0.0/29"); /* .1 gateway, .2-.6 boxes, .7 broadcast */
	uint32_t gw = bx_cidr_first_host(&c), ip;
	assert_int_equal(gw, 0x0a000001u);
	uint32_t used[8] = {0};
	size_t n = 0;
	for (uint32_t want = 2; want <= 6; want++) {
		assert_int_equal(bx_ipam_pick(&c, gw, used, n, &ip), 0);
		assert_int_equal(ip, 0x0a000000u + want);
		used[n++] = ip;
	}
	assert_int_equal(bx_ipam_pick(&c, gw, used, n, &ip), -1); /* full */
	used[1] = 0; /* .3 released */
	assert_int_equal(bx_ipam_pick(&c, gw, used, n, &ip), 0);
	assert_int_equal(ip, 0x0a000003u);
	/* a gateway elsewhere in the subnet is skipped, .1 is then a box's */
	assert_int_equal(bx_ipam_pick(&c, 0x0a000005u, NULL, 0, &ip), 0);
	assert_int_equal(ip, 0x0a000001u);
}

static void mac_like_dockers(void **state)
{
	char mac[18];
	bx_mac_from_ip(0x0a050002u, mac, sizeof(mac));
	assert_string_equal(mac, "02:42:0a:05:00:02");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_and_normalizes), cmocka_unit_test(rejects_with_dockers_words),
		cmocka_unit_test(overlaps),              cmocka_unit_test(default_pools),
		cmocka_unit_test(ipam_picks_the_lowest_free), cmocka_unit_test(mac_like_dockers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
