/* /boxvm/net parsing and the resolv.conf rewrite (src/agent/pure/netconf.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pure/netconf.h"

static void parses(void **state)
{
	struct bx_netconf nc;
	struct bx_err err;
	assert_int_equal(bx_netconf_parse("nic 02:42:ac:12:00:02 172.18.0.2/16\nnic 02:42:0a:00:00:02 10.0.0.2/24\n"
					  "dns 172.18.0.1\n", &nc, &err), 0);
	assert_int_equal(nc.nnics, 2);
	assert_string_equal(nc.nics[0].mac, "02:42:ac:12:00:02");
	assert_string_equal(nc.nics[1].addr, "10.0.0.2");
	assert_int_equal(nc.nics[0].prefix, 16);
	assert_string_equal(nc.dns, "172.18.0.1");
	assert_int_equal(bx_netconf_parse("", &nc, &err), 0);
	assert_int_equal(nc.nnics, 0);

	static const char *const bad[] = {"nic 02:42 1.2.3.4/8\n", "nic 02:42:ac:12:00:02 1.2.3/8\n",
					  "nic 02:42:ac:12:00:02 1.2.3.4/33\n", "dns foo\n", "route x\n",
					  "nic 02:42:ac:12:00:02 1.2.3.4/8 extra\n", "spare 02:b0:00:00:00:00\n", NULL};
	for (int i = 0; bad[i]; i++)
		assert_int_equal(bx_netconf_parse(bad[i], &nc, &err), -1);
}

static void rewrites_only_the_default_nameserver(void **state)
{
	char *r = bx_netconf_resolv("search x\nnameserver 10.0.2.3\noptions ndots:2\n", "10.0.2.3", "172.18.0.1");
	assert_string_equal(r, "search x\nnameserver 172.18.0.1\noptions ndots:2\n");
	free(r);
	r = bx_netconf_resolv("nameserver 1.1.1.1\nnameserver 10.0.2.33", "10.0.2.3", "172.18.0.1");
	assert_string_equal(r, "nameserver 1.1.1.1\nnameserver 10.0.2.33");
	free(r);
}

static void parses_live_changes(void **state)
{
	struct bx_netcmd c;
	struct bx_err err;
	assert_int_equal(bx_netcmd_parse("up 02:b0:00:00:00:01 02:42:ac:12:00:03 172.18.0.3/16", &c, &err), 0);
	assert_int_equal(c.op, BX_NETCMD_UP);
	assert_string_equal(c.mac, "02:b0:00:00:00:01");
	assert_string_equal(c.newmac, "02:42:ac:12:00:03");
	assert_string_equal(c.addr, "172.18.0.3");
	assert_int_equal(c.prefix, 16);
	assert_int_equal(bx_netcmd_parse("down 02:42:ac:12:00:03 02:b0:00:00:00:01", &c, &err), 0);
	assert_int_equal(c.op, BX_NETCMD_DOWN);
	assert_string_equal(c.newmac, "02:b0:00:00:00:01");
	assert_int_equal(bx_netcmd_parse("dns 10.0.2.3 172.18.0.1", &c, &err), 0);
	assert_int_equal(c.op, BX_NETCMD_DNS);
	assert_string_equal(c.old, "10.0.2.3");
	assert_string_equal(c.addr, "172.18.0.1");
	static const char *const bad[] = {"", "up", "up 02:b0:00:00:00:01 02:42:ac:12:00:03 172.18.0.3",
					  "up 02:b0:00:00:00:01 02:42:ac:12:00:03 172.18.0.3/0",
					  "up 02:b0:00:00:00:01 02:42:AC:12:00:03 172.18.0.3/16",
					  "down 02:42:ac:12:00:03", "down 02:42:ac:12:00:03 02:b0:00:00:00:01 x",
					  "dns 10.0.2.3", "dns 10.0.2.3 name", "route 1.2.3.4", NULL};
	for (int i = 0; bad[i]; i++) {
		assert_int_equal(bx_netcmd_parse(bad[i], &c, &err), -1);
		assert_non_null(strstr(err.msg, "bad network change"));
	}
	char longline[300];
	memset(longline, 'a', sizeof(longline) - 1);
	longline[sizeof(longline) - 1] = '\0';
	assert_int_equal(bx_netcmd_parse(longline, &c, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses),
		cmocka_unit_test(rewrites_only_the_default_nameserver),
		cmocka_unit_test(parses_live_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
