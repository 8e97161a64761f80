/* BX_M_LIMIT requests: only the whitelisted files of the guest's box
 * cgroup, each with values of its own form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pure/limit.h"

static int parse(const char *s, struct bx_limit *l, struct bx_err *err)
{
	return bx_limit_parse(s, strlen(s), l, err);
}

static void good(void **state)
{
	struct bx_limit l;
	struct bx_err err;
	assert_int_equal(parse("pids.max=64", &l, &err), 0);
	assert_string_equal(l.file, "pids.max");
	assert_string_equal(l.value, "64");
	assert_int_equal(parse("pids.max=max", &l, &err), 0);
	assert_int_equal(parse("memory.max=167772160", &l, &err), 0);
	assert_int_equal(parse("memory.low=max", &l, &err), 0);
	assert_int_equal(parse("cpu.weight=10000", &l, &err), 0);
	assert_int_equal(parse("cpuset.cpus=0-1,3", &l, &err), 0);
	assert_string_equal(l.value, "0-1,3");
}

static void bad(void **state)
{
	struct bx_limit l;
	struct bx_err err;
	const char *bad[] = {"pids.max", "=1", "pids.max=", "cgroup.procs=1", "../x=1", "pids.max=-1", "pids.max=1 ",
			     "pids.max=maxx", "memory.max=1e9", "cpu.weight=0", "cpu.weight=10001", "cpuset.cpus=0;1",
			     "memory.max=99999999999999999999", "pids.max=1\n", "PIDS.MAX=1", NULL};
	for (const char **b = bad; *b; b++)
		assert_int_equal(parse(*b, &l, &err), -1);
	/* a NUL inside: the request as sent, not a C string cut short */
	assert_int_equal(bx_limit_parse("pids.max=1\0x", 12, &l, &err), -1);
	char longv[200] = "cpuset.cpus=";
	memset(longv + strlen(longv), '1', 100);
	assert_int_equal(parse(longv, &l, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(good), cmocka_unit_test(bad)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
