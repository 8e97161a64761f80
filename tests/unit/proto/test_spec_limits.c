/* The process spec's resource limits (BX_T_RLIMIT) and supplementary groups
 * (BX_T_GROUP): round trip, absence, and malformed records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "proto/frame.h"
#include "proto/spec.h"
#include "proto/spec_box.h"

static void test_roundtrip(void **state)
{
	struct bx_spec s, d;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_arg(&s, "sh", &err), 0);
	assert_int_equal(bx_spec_add_rlimit(&s, RLIMIT_NOFILE, 1234, 5678, &err), 0);
	assert_int_equal(bx_spec_add_rlimit(&s, RLIMIT_CORE, UINT64_MAX, UINT64_MAX, &err), 0);
	assert_int_equal(bx_spec_add_group(&s, 10, &err), 0);
	assert_int_equal(bx_spec_add_group(&s, 4000000000u, &err), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(bx_spec_encode(&s, &buf, &len, &err), 0);
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_int_equal(d.nrlimits, 2);
	assert_int_equal(d.rlimits[0].resource, RLIMIT_NOFILE);
	assert_true(d.rlimits[0].soft == 1234 && d.rlimits[0].hard == 5678);
	assert_int_equal(d.rlimits[1].resource, RLIMIT_CORE);
	assert_true(d.rlimits[1].soft == UINT64_MAX && d.rlimits[1].hard == UINT64_MAX);
	assert_int_equal(d.ngroups, 2);
	assert_int_equal(d.groups[0], 10);
	assert_int_equal(d.groups[1], 4000000000u);
	bx_spec_free(&d);
	bx_spec_free(&s);
	free(buf);
}

static void test_absent_by_default(void **state)
{
	struct bx_spec s, d;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_arg(&s, "true", &err), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(bx_spec_encode(&s, &buf, &len, &err), 0);
	assert_int_equal(len, 6 + 4); /* the argument only */
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_int_equal(d.nrlimits, 0);
	assert_int_equal(d.ngroups, 0);
	bx_spec_free(&d);
	bx_spec_free(&s);
	free(buf);
}

static void test_add_rejects(void **state)
{
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_rlimit(&s, 16, 1, 1, &err), -1);
	assert_non_null(strstr(err.msg, "unknown resource limit 16"));
	assert_int_equal(bx_spec_add_rlimit(&s, RLIMIT_NOFILE, 10, 5, &err), -1);
	assert_non_null(strstr(err.msg, "exceeds hard limit"));
	for (int i = 0; i < 64; i++)
		assert_int_equal(bx_spec_add_group(&s, (uint32_t)i, &err), 0);
	assert_int_equal(bx_spec_add_group(&s, 64, &err), -1);
	bx_spec_free(&s);
}

/* A spec of: ARG "sh", then one record (tag, payload). */
static size_t one_record(uint8_t *buf, uint16_t tag, const uint8_t *payload, uint32_t plen)
{
	bx_put_u16(buf, BX_T_ARG);
	bx_put_u32(buf + 2, 2);
	memcpy(buf + 6, "sh", 2);
	bx_put_u16(buf + 8, tag);
	bx_put_u32(buf + 10, plen);
	memcpy(buf + 14, payload, plen);
	return 14 + plen;
}

static void test_malformed(void **state)
{
	uint8_t buf[64], p[24] = {0};
	struct bx_spec d;
	struct bx_err err;
	bx_spec_init(&d);
	/* wrong sizes */
	assert_int_equal(bx_spec_decode(&d, buf, one_record(buf, BX_T_RLIMIT, p, 19), &err), -1);
	assert_non_null(strstr(err.msg, "resource limit must be 20 bytes"));
	assert_int_equal(bx_spec_decode(&d, buf, one_record(buf, BX_T_GROUP, p, 3), &err), -1);
	assert_non_null(strstr(err.msg, "supplementary group must be 4 bytes"));
	/* a resource the kernel does not have */
	bx_put_u32(p, 99);
	assert_int_equal(bx_spec_decode(&d, buf, one_record(buf, BX_T_RLIMIT, p, 20), &err), -1);
	assert_non_null(strstr(err.msg, "unknown resource limit 99"));
	/* soft above hard */
	bx_put_u32(p, RLIMIT_NOFILE);
	bx_put_u32(p + 4, 10);
	bx_put_u32(p + 12, 5);
	assert_int_equal(bx_spec_decode(&d, buf, one_record(buf, BX_T_RLIMIT, p, 20), &err), -1);
	assert_int_equal(d.nrlimits, 0); /* left empty */
	assert_null(d.args);
}

/* BX_T_CAPS and BX_T_NO_NEW_PRIVS: the five sets and the keep flag travel
 * whole; absent means the agent's own (every capability); names parse. */
static void test_caps(void **state)
{
	struct bx_spec s, d;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_spec_add_arg(&s, "sh", &err), 0);
	s.caps = (struct bx_spec_caps){.set = true, .keep = true, .bounding = BX_CAPS_DOCKER_DEFAULT,
				       .effective = 1, .permitted = 3, .inheritable = 1ULL << 40, .ambient = 1ULL << 63};
	s.no_new_privs = true;
	s.idle = true;     /* BX_T_IDLE, BX_T_BUILD_STEP: a build VM's main and its steps */
	s.build_step = true;
	assert_int_equal(bx_spec_add_sysctl(&s, "net.core.somaxconn=1024", &err), 0);
	assert_int_equal(bx_spec_add_cgroup(&s, "pids.max=64", &err), 0);
	assert_int_equal(bx_spec_add_cgroup(&s, "memory.max=67108864", &err), 0);
	uint8_t *buf;
	size_t len;
	assert_int_equal(bx_spec_encode(&s, &buf, &len, &err), 0);
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, buf, len, &err), 0);
	assert_true(d.caps.set && d.caps.keep && d.no_new_privs && d.idle && d.build_step);
	assert_true(d.caps.bounding == BX_CAPS_DOCKER_DEFAULT && d.caps.effective == 1 && d.caps.permitted == 3);
	assert_true(d.caps.inheritable == 1ULL << 40 && d.caps.ambient == 1ULL << 63);
	assert_int_equal(d.nsysctls, 1);
	assert_string_equal(d.sysctls[0], "net.core.somaxconn=1024");
	assert_null(d.sysctls[1]);
	assert_int_equal(d.ncgroup, 2);
	assert_string_equal(d.cgroup[0], "pids.max=64");
	assert_string_equal(d.cgroup[1], "memory.max=67108864");
	assert_null(d.cgroup[2]);
	bx_spec_free(&d);
	free(buf);
	bx_spec_free(&s);
	/* malformed: wrong size, keep not 0/1 */
	uint8_t b[80], p[BX_SPEC_CAPS_REC + 1] = {0};
	bx_spec_init(&d);
	assert_int_equal(bx_spec_decode(&d, b, one_record(b, BX_T_CAPS, p, BX_SPEC_CAPS_REC - 1), &err), -1);
	p[0] = 2;
	assert_int_equal(bx_spec_decode(&d, b, one_record(b, BX_T_CAPS, p, BX_SPEC_CAPS_REC), &err), -1);
	assert_false(d.caps.set);
	/* names: with or without CAP_, any case; Docker's default set is 14 caps */
	assert_int_equal(bx_cap_parse("NET_ADMIN"), 12);
	assert_int_equal(bx_cap_parse("cap_sys_admin"), 21);
	assert_int_equal(bx_cap_parse("CAP_CHECKPOINT_RESTORE"), BX_CAP_LAST);
	assert_int_equal(bx_cap_parse("ALL"), -1);
	assert_int_equal(bx_cap_parse("FOO"), -1);
	assert_string_equal(bx_cap_name(29), "AUDIT_WRITE");
	assert_null(bx_cap_name(41));
	assert_int_equal(__builtin_popcountll(BX_CAPS_DOCKER_DEFAULT), 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_absent_by_default),
		cmocka_unit_test(test_add_rejects),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
