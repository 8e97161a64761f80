/* Docker's privilege flags into capability sets (src/box/secopts.c): the
 * sets Docker 20.10 gives for the same flags (docker-ref), its errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "box/secopts.h"

static uint64_t caps_of(char **add, char **drop, bool privileged, bool *nnp, char **secopt)
{
	struct bx_secopts o = {.cap_add = add, .cap_drop = drop, .privileged = privileged, .security_opt = secopt};
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_secopts_check(&o, &err), 0);
	assert_int_equal(bx_secopts_apply(&o, &s, &err), 0);
	assert_true(s.caps.set && !s.caps.keep);
	assert_true(s.caps.bounding == s.caps.effective && s.caps.effective == s.caps.permitted);
	assert_true(s.caps.inheritable == 0 && s.caps.ambient == 0);
	if (nnp)
		*nnp = s.no_new_privs;
	return s.caps.bounding;
}

static void test_sets(void **state)
{
	char *net_admin[] = {"net_admin", NULL}, *all[] = {"ALL", NULL}, *mknod[] = {"CAP_MKNOD", NULL};
	assert_true(caps_of(NULL, NULL, false, NULL, NULL) == 0xa80425fbULL);
	/* Docker: --cap-add NET_ADMIN -> a80435fb; --cap-drop all --cap-add net_admin -> 1000 */
	assert_true(caps_of(net_admin, NULL, false, NULL, NULL) == 0xa80435fbULL);
	assert_true(caps_of(net_admin, all, false, NULL, NULL) == 0x1000ULL);
	assert_true(caps_of(all, mknod, false, NULL, NULL) == (BX_CAPS_ALL & ~(1ULL << 27)));
	assert_true(caps_of(NULL, all, false, NULL, NULL) == 0);
	assert_true(caps_of(NULL, mknod, false, NULL, NULL) == (0xa80425fbULL & ~(1ULL << 27)));
	assert_true(caps_of(NULL, all, true, NULL, NULL) == BX_CAPS_ALL); /* --privileged wins */
	bool nnp;
	char *on[] = {"no-new-privileges", NULL}, *off_last[] = {"no-new-privileges", "no-new-privileges=false", NULL};
	caps_of(NULL, NULL, false, &nnp, on);
	assert_true(nnp);
	caps_of(NULL, NULL, false, &nnp, off_last);
	assert_false(nnp);
	caps_of(NULL, NULL, false, &nnp, NULL);
	assert_false(nnp);
}

static void test_errors(void **state)
{
	struct bx_err err;
	char *foo[] = {"foo", NULL}, *bogus[] = {"bogus", NULL}, *badval[] = {"no-new-privileges=maybe", NULL};
	struct bx_secopts o = {.cap_add = foo};
	assert_int_equal(bx_secopts_check(&o, &err), -1);
	assert_string_equal(err.msg, "invalid CapAdd: unknown capability: \"CAP_FOO\"");
	o = (struct bx_secopts){.cap_drop = foo};
	assert_int_equal(bx_secopts_check(&o, &err), -1);
	assert_string_equal(err.msg, "invalid CapDrop: unknown capability: \"CAP_FOO\"");
	o = (struct bx_secopts){.security_opt = bogus};
	assert_int_equal(bx_secopts_check(&o, &err), -1);
	assert_string_equal(err.msg, "Invalid --security-opt: \"bogus\"");
	o = (struct bx_secopts){.security_opt = badval};
	assert_int_equal(bx_secopts_check(&o, &err), -1);
}

static void test_host_config(void **state)
{
	char *add[] = {"net_admin", NULL};
	struct bx_secopts o = {.cap_add = add, .privileged = true};
	json_t *hc = bx_secopts_host_config(&o);
	char *text = json_dumps(hc, JSON_SORT_KEYS | JSON_COMPACT);
	assert_string_equal(text, "{\"CapAdd\":[\"net_admin\"],\"CapDrop\":null,\"GroupAdd\":null,\"Init\":null,\"MaskedPaths\":null,"
				  "\"OomScoreAdj\":0,\"Privileged\":true,\"ReadonlyPaths\":null,\"SecurityOpt\":null,"
				  "\"ShmSize\":67108864}");
	free(text);
	json_decref(hc);
}

/* the seccomp filter main gets: none privileged or unconfined, else the profile's */
static size_t filter_of(char **secopt, bool privileged)
{
	struct bx_secopts o = {.security_opt = secopt, .privileged = privileged};
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	if (bx_secopts_check(&o, &err) < 0 || bx_secopts_apply(&o, &s, &err) < 0 ||
	    bx_secopts_seccomp(&o, "6.1.0-57-cloud-amd64", &s, &err) < 0)
		fail_msg("%s", err.msg);
	size_t n = s.nseccomp;
	bx_spec_free(&s);
	return n;
}

static void test_seccomp(void **state)
{
	char *unconfined[] = {"seccomp=unconfined", NULL}, *old_colon[] = {"seccomp:unconfined", NULL};
	char *custom[] = {"seccomp={\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
			  "\"action\":\"SCMP_ACT_ERRNO\"}]}", NULL};
	char *last_wins[] = {custom[0], "seccomp=unconfined", NULL};
	size_t dflt = filter_of(NULL, false);
	assert_true(dflt > 100);                 /* Docker's default profile */
	assert_int_equal(filter_of(NULL, true), 0); /* --privileged: none */
	assert_int_equal(filter_of(unconfined, false), 0);
	assert_int_equal(filter_of(old_colon, false), 0);
	assert_int_equal(filter_of(last_wins, false), 0);
	size_t small = filter_of(custom, false);
	assert_true(small > 0 && small < dflt);
	/* a profile that is not JSON, or not a profile, is refused by the check */
	struct bx_err err;
	char *path[] = {"seccomp=/etc/profile.json", NULL}, *bad[] = {"seccomp={\"defaultAction\":\"SCMP_ACT_NOPE\"}", NULL};
	struct bx_secopts o = {.security_opt = path};
	assert_int_equal(bx_secopts_check(&o, &err), -1);
	assert_non_null(strstr(err.msg, "Decoding seccomp profile failed"));
	o.security_opt = bad;
	assert_int_equal(bx_secopts_check(&o, &err), -1);
	assert_non_null(strstr(err.msg, "string SCMP_ACT_NOPE is not a valid action for seccomp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_host_config),
		cmocka_unit_test(test_seccomp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
