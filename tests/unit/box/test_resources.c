/* Docker's resource flags (src/box/resources.c): the cgroup limits they
 * become, the VM around a memory limit, and the words and HostConfig fields
 * Docker 20.10 (docker-ref) gives for the same flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "box/resources.h"

static void flags(struct bx_resources *r, const char *const *kv)
{
	struct bx_err err = {0};
	memset(r, 0, sizeof(*r));
	for (; *kv; kv += 2)
		if (bx_resources_flag(r, kv[0], kv[1], &err) < 0)
			fail_msg("--%s %s: %s", kv[0], kv[1], err.msg);
}

static void test_limits_become_cgroup_files(void **state)
{
	static const char *const kv[] = {"memory", "64m", "memory-reservation", "32MiB", "memory-swap", "64m",
					 "pids-limit", "64", "cpu-shares", "512", "cpuset-cpus", "0", NULL};
	struct bx_resources r;
	struct bx_err err = {0};
	flags(&r, kv);
	assert_int_equal(bx_resources_check(&r, 2, &err), 0);
	assert_int_equal(bx_resources_vm_mb(&r), 64 + BX_RES_VM_OVERHEAD_MB);
	struct bx_spec s;
	bx_spec_init(&s);
	assert_int_equal(bx_resources_apply(&r, &s, &err), 0);
	assert_int_equal(s.ncgroup, 5);
	assert_string_equal(s.cgroup[0], "pids.max=64");
	assert_string_equal(s.cgroup[1], "memory.max=67108864");
	assert_string_equal(s.cgroup[2], "memory.low=33554432");
	assert_string_equal(s.cgroup[3], "cpu.weight=20"); /* runc: 1 + (510 * 9999) / 262142 */
	assert_string_equal(s.cgroup[4], "cpuset.cpus=0");
	bx_spec_free(&s);
	json_t *j = bx_resources_host_config(&r);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"CpuShares\":512,\"CpusetCpus\":\"0\",\"Memory\":67108864,\"MemoryReservation\":33554432,"
				  "\"MemorySwap\":67108864,\"PidsLimit\":64}");
	free(text);
	json_decref(j);
}

/* Docker's records: no limit is 0 / null, -m alone gives twice as much swap,
 * --pids-limit -1 and 0 are unlimited */
static void test_defaults_as_docker_records_them(void **state)
{
	struct bx_resources r;
	struct bx_err err = {0};
	struct bx_spec s;
	static const char *const none[] = {"pids-limit", "-1", NULL};
	flags(&r, none);
	assert_int_equal(bx_resources_check(&r, 2, &err), 0);
	assert_int_equal(bx_resources_vm_mb(&r), 0);
	bx_spec_init(&s);
	assert_int_equal(bx_resources_apply(&r, &s, &err), 0);
	assert_int_equal(s.ncgroup, 0);
	bx_spec_free(&s);
	json_t *j = bx_resources_host_config(&r);
	char *text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(text, "{\"CpuShares\":0,\"CpusetCpus\":\"\",\"Memory\":0,\"MemoryReservation\":0,"
				  "\"MemorySwap\":0,\"PidsLimit\":null}");
	free(text);
	json_decref(j);
	static const char *const mem[] = {"memory", "64m", "memory-swap", "0", NULL};
	flags(&r, mem);
	j = bx_resources_host_config(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "MemorySwap")), 134217728);
	json_decref(j);
	static const char *const unl[] = {"memory", "100000000", "memory-swap", "-1", NULL};
	flags(&r, unl);
	assert_int_equal(bx_resources_check(&r, 2, &err), 0);
	assert_int_equal(bx_resources_vm_mb(&r), 96 + BX_RES_VM_OVERHEAD_MB); /* 95.4 MiB, rounded up */
	j = bx_resources_host_config(&r);
	assert_int_equal(json_integer_value(json_object_get(j, "MemorySwap")), -1);
	json_decref(j);
}

static void test_cpu_shares_weight(void **state)
{
	assert_int_equal(bx_cpu_shares_weight(0), 0);
	assert_int_equal(bx_cpu_shares_weight(2), 1);
	assert_int_equal(bx_cpu_shares_weight(-5), 1);
	assert_int_equal(bx_cpu_shares_weight(1024), 39);
	assert_int_equal(bx_cpu_shares_weight(262144), 10000);
	assert_int_equal(bx_cpu_shares_weight(300000), 10000);
}

static void test_sizes(void **state)
{
	int64_t v;
	assert_int_equal(bx_resources_bytes("512m", &v), 0);
	assert_int_equal(v, 512LL << 20);
	assert_int_equal(bx_resources_bytes("1G", &v), 0);
	assert_int_equal(v, 1LL << 30);
	assert_int_equal(bx_resources_bytes("64MiB", &v), 0);
	assert_int_equal(v, 64LL << 20);
	assert_int_equal(bx_resources_bytes("7kb", &v), 0);
	assert_int_equal(v, 7 << 10);
	assert_int_equal(bx_resources_bytes("100", &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(bx_resources_bytes("12x", &v), -1);
	assert_int_equal(bx_resources_bytes("-1", &v), -1);
	assert_int_equal(bx_resources_bytes("", &v), -1);
	assert_int_equal(bx_resources_bytes("99999999999999t", &v), -1);
}

/* the flags' and Docker's daemon's words */
static void test_errors(void **state)
{
	static const struct {
		const char *kv[7];
		int vcpus;
		const char *says;
	} cases[] = {
		{{"memory", "2m"}, 2, "Minimum memory limit allowed is 6MB"},
		{{"memory-reservation", "2m"}, 2, "Minimum memory reservation allowed is 6MB"},
		{{"memory-swap", "64m"}, 2, "You should always set the Memory limit when using Memoryswap limit, see usage"},
		{{"memory", "64m", "memory-swap", "32m"}, 2,
		 "Minimum memoryswap limit should be larger than memory limit, see usage"},
		{{"memory", "64m", "memory-swap", "128m"}, 2, "no swap"},
		{{"memory", "32m", "memory-reservation", "64m"}, 2,
		 "Minimum memory limit can not be less than memory reservation limit, see usage"},
		{{"cpuset-cpus", "9"}, 2, "Requested CPUs are not available - requested 9, available: 0-1"},
		{{"cpuset-cpus", "1"}, 1, "Requested CPUs are not available - requested 1, available: 0"},
		{{"memory", "2t"}, 2, "at most 1 TiB"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bx_resources r;
		struct bx_err err = {0};
		flags(&r, cases[i].kv);
		assert_int_equal(bx_resources_check(&r, cases[i].vcpus, &err), -1);
		if (!strstr(err.msg, cases[i].says))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg, cases[i].says);
	}
	static const struct {
		const char *flag, *value, *says;
	} bad[] = {
		{"pids-limit", "x", "invalid argument \"x\" for \"--pids-limit\" flag: strconv.ParseInt: parsing \"x\": invalid syntax"},
		{"cpu-shares", "1.5", "invalid argument \"1.5\" for \"--cpu-shares\" flag"},
		{"cpuset-cpus", "x", "Invalid value x for cpuset cpus: invalid format: x"},
		{"cpuset-cpus", "1-0", "invalid format"},
		{"cpuset-cpus", "0,", "invalid format"},
		{"memory", "12x", "invalid --memory '12x'"},
		{"memory-swap", "-2", "invalid --memory-swap '-2'"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bx_resources r = {0};
		struct bx_err err = {0};
		assert_int_equal(bx_resources_flag(&r, bad[i].flag, bad[i].value, &err), -1);
		if (!strstr(err.msg, bad[i].says))
			fail_msg("--%s %s: '%s' does not say '%s'", bad[i].flag, bad[i].value, err.msg, bad[i].says);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits_become_cgroup_files),
		cmocka_unit_test(test_defaults_as_docker_records_them),
		cmocka_unit_test(test_cpu_shares_weight),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
