/* Docker's resource values for a box's host cgroup: --cpus as cpu.max /
 * CFS quota, runc's shares -> weight, cpuset lists and their checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "vm/cglimits.h"

static void cpus_as_cfs_quota(void **state)
{
	char t[32];
	bx_cg_cpu_max(1500000000LL, t, sizeof(t));
	assert_string_equal(t, "150000 100000");
	bx_cg_cpu_max(500000000LL, t, sizeof(t));
	assert_string_equal(t, "50000 100000");
	bx_cg_cpu_max(0, t, sizeof(t));
	assert_string_equal(t, "max 100000");
	assert_int_equal(bx_cg_cfs_quota(0), -1);
	assert_int_equal(bx_cg_cfs_quota(2000000000LL), 200000);
	/* 0.001 CPUs would be 100 us: the kernel's minimum is 1 ms */
	assert_int_equal(bx_cg_cfs_quota(1000000LL), 1000);
}

static void shares_as_weight(void **state)
{
	/* runc's conversion: 1 + ((shares - 2) * 9999) / 262142 */
	assert_int_equal(bx_cg_shares_to_weight(2), 1);
	assert_int_equal(bx_cg_shares_to_weight(1024), 39);
	assert_int_equal(bx_cg_shares_to_weight(512), 20);
	assert_int_equal(bx_cg_shares_to_weight(262144), 10000);
	assert_int_equal(bx_cg_shares_to_weight(0), 100); /* none given: the default weight */
	/* out of the kernel's bounds: clamped as cpu.shares would be */
	assert_int_equal(bx_cg_shares_to_weight(1), 1);
	assert_int_equal(bx_cg_shares_to_weight(1000000), 10000);
	assert_int_equal(bx_cg_shares(0), 1024);
	assert_int_equal(bx_cg_shares(1), 2);
	assert_int_equal(bx_cg_shares(300000), 262144);
}

static void cpuset_lists(void **state)
{
	uint64_t m[BX_CPUSET_MAX / 64];
	struct bx_err err;
	assert_int_equal(bx_cpuset_parse("0-3,5", m, &err), 0);
	assert_int_equal(m[0], 0x2f);
	assert_int_equal(bx_cpuset_parse("64", m, &err), 0);
	assert_int_equal(m[0], 0);
	assert_int_equal(m[1], 1);
	const char *bad[] = {"", "x", "1-", "-1", "3-1", "1,,2", "1,", " 1", "+1", "1 ", "99999", NULL};
	for (const char **b = bad; *b; b++) {
		assert_int_equal(bx_cpuset_parse(*b, m, &err), -1);
		assert_non_null(strstr(err.msg, "for cpuset cpus: invalid format"));
	}
	assert_string_equal((bx_cpuset_parse("x", m, &err), err.msg), "Invalid value x for cpuset cpus: invalid format: x");
}

static void cpuset_against_the_host(void **state)
{
	struct bx_err err;
	assert_int_equal(bx_cpuset_check("0", "0-1\n", &err), 0);
	assert_int_equal(bx_cpuset_check("0-1", "0-1", &err), 0);
	assert_int_equal(bx_cpuset_check("7", "0-1\n", &err), -1);
	assert_string_equal(err.msg, "Requested CPUs are not available - requested 7, available: 0-1");
	assert_int_equal(bx_cpuset_check("1,3", "0-2,4", &err), -1);
	assert_int_equal(bx_cpuset_check("x", "0-1", &err), -1);
	assert_string_equal(err.msg, "Invalid value x for cpuset cpus: invalid format: x");
}

static void cpus_values(void **state)
{
	struct bx_err err;
	long long n = -1;
	assert_int_equal(bx_cpus_parse("1.5", 2, &n, &err), 0);
	assert_int_equal(n, 1500000000LL);
	assert_int_equal(bx_cpus_parse("0", 2, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bx_cpus_parse("3", 2, &n, &err), -1);
	assert_string_equal(err.msg, "Range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available");
	assert_int_equal(bx_cpus_parse("0.001", 2, &n, &err), -1);
	assert_int_equal(bx_cpus_parse("abc", 2, &n, &err), -1);
	assert_non_null(strstr(err.msg, "invalid argument \"abc\" for \"--cpus\" flag"));
	assert_int_equal(bx_cpus_parse("-1", 2, &n, &err), -1);
	assert_int_equal(bx_cpus_parse("nan", 2, &n, &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cpus_as_cfs_quota), cmocka_unit_test(shares_as_weight),
		cmocka_unit_test(cpuset_lists),      cmocka_unit_test(cpuset_against_the_host),
		cmocka_unit_test(cpus_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
