/* The prune commands' --filter (prune_filter.h) and Docker's time
 * arguments (timearg.h): which keys each command takes, the daemon's
 * errors, and label=/label!=/until= matching as Docker's matchLabels. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "store/prune_filter.h"
#include "store/timearg.h"

#define NOW 1700000000000000000LL /* 2023-11-14T22:13:20Z */

static int build(struct bx_prune_filter *f, unsigned allowed, const char *const *kv, struct bx_err *err)
{
	bx_prune_filter_init(f);
	for (; *kv; kv++)
		if (bx_prune_filter_add(f, *kv, err) < 0)
			return -1;
	return bx_prune_filter_check(f, allowed, NOW, err);
}

static void test_bad_format_is_a_flag_error(void **state)
{
	struct bx_prune_filter f;
	struct bx_err err = {0};
	bx_prune_filter_init(&f);
	assert_int_equal(bx_prune_filter_add(&f, "label", &err), -1);
	assert_int_equal(err.errnum, EINVAL);
	assert_non_null(strstr(err.msg, "(expected name=value)"));
	assert_int_equal(bx_prune_filter_add(&f, "=x", &err), -1);
	bx_prune_filter_free(&f);
}

static void test_keys_each_command_takes(void **state)
{
	struct bx_prune_filter f;
	struct bx_err err = {0};
	const char *foo[] = {"foo=bar", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL | BX_PRUNE_LABEL, foo, &err), -1);
	assert_non_null(strstr(err.msg, "invalid filter 'foo'"));
	bx_prune_filter_free(&f);
	/* volumes take no until=, containers no dangling= */
	const char *until[] = {"until=1h", NULL};
	assert_int_equal(build(&f, BX_PRUNE_LABEL, until, &err), -1);
	assert_non_null(strstr(err.msg, "invalid filter 'until'"));
	bx_prune_filter_free(&f);
	const char *dangling[] = {"dangling=true", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL | BX_PRUNE_LABEL, dangling, &err), -1);
	bx_prune_filter_free(&f);
	assert_int_equal(build(&f, BX_PRUNE_UNTIL | BX_PRUNE_LABEL | BX_PRUNE_DANGLING, dangling, &err), 0);
	assert_int_equal(f.dangling, 1);
	bx_prune_filter_free(&f);
	/* a key is checked before any value: the unknown key is the error */
	const char *both[] = {"until=garbage", "foo=1", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL | BX_PRUNE_LABEL, both, &err), -1);
	assert_non_null(strstr(err.msg, "invalid filter 'foo'"));
	bx_prune_filter_free(&f);
}

static void test_values_the_daemon_refuses(void **state)
{
	struct bx_prune_filter f;
	struct bx_err err = {0};
	const char *bad_time[] = {"until=garbage", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL, bad_time, &err), -1);
	assert_non_null(strstr(err.msg, "failed to parse value as time or duration: \"garbage\""));
	bx_prune_filter_free(&f);
	const char *two[] = {"until=1h", "until=2h", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL, two, &err), -1);
	assert_string_equal(err.msg, "more than one until filter specified");
	bx_prune_filter_free(&f);
	const char *maybe[] = {"dangling=maybe", NULL};
	assert_int_equal(build(&f, BX_PRUNE_DANGLING, maybe, &err), -1);
	bx_prune_filter_free(&f);
	/* Docker: a dangling=false among them means every image */
	const char *mixed[] = {"dangling=false", "dangling=true", NULL};
	assert_int_equal(build(&f, BX_PRUNE_DANGLING, mixed, &err), 0);
	assert_int_equal(f.dangling, 0);
	bx_prune_filter_free(&f);
}

static void test_until(void **state)
{
	struct bx_prune_filter f;
	struct bx_err err = {0};
	const char *hour[] = {"until=1h", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL, hour, &err), 0);
	long long cut = NOW - 3600LL * 1000000000LL;
	assert_true(bx_prune_until_match(&f, cut));
	assert_true(bx_prune_until_match(&f, cut - 1));
	assert_false(bx_prune_until_match(&f, cut + 1));
	assert_true(bx_prune_until_match(&f, 0)); /* unknown creation time: Docker's zero time is before any */
	bx_prune_filter_free(&f);
	const char *stamp[] = {"until=2023-11-14T22:13:20Z", NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL, stamp, &err), 0);
	assert_int_equal(f.until_ns, NOW);
	bx_prune_filter_free(&f);
	const char *none[] = {NULL};
	assert_int_equal(build(&f, BX_PRUNE_UNTIL, none, &err), 0);
	assert_true(bx_prune_until_match(&f, NOW * 2));
	bx_prune_filter_free(&f);
}

static void test_labels_match_as_docker(void **state)
{
	json_t *labels = json_pack("{s:s,s:s}", "env", "prod", "team", "a");
	json_t *empty = json_object();
	struct bx_prune_filter f;
	struct bx_err err = {0};
	const char *key[] = {"label=env", NULL};
	assert_int_equal(build(&f, BX_PRUNE_LABEL, key, &err), 0);
	assert_true(bx_prune_labels_match(&f, labels));
	assert_false(bx_prune_labels_match(&f, empty));
	assert_false(bx_prune_labels_match(&f, NULL));
	bx_prune_filter_free(&f);
	/* label= filters all have to match */
	const char *kv[] = {"label=env=prod", "label=team=b", NULL};
	assert_int_equal(build(&f, BX_PRUNE_LABEL, kv, &err), 0);
	assert_false(bx_prune_labels_match(&f, labels));
	bx_prune_filter_free(&f);
	/* label!=: no labels at all passes; excluded only when all of them match */
	const char *not[] = {"label!=env=prod", NULL};
	assert_int_equal(build(&f, BX_PRUNE_LABEL, not, &err), 0);
	assert_false(bx_prune_labels_match(&f, labels));
	assert_true(bx_prune_labels_match(&f, empty));
	assert_true(bx_prune_labels_match(&f, NULL));
	bx_prune_filter_free(&f);
	const char *nots[] = {"label!=env", "label!=other", NULL};
	assert_int_equal(build(&f, BX_PRUNE_LABEL, nots, &err), 0);
	assert_true(bx_prune_labels_match(&f, labels));
	bx_prune_filter_free(&f);
	const char *none[] = {NULL};
	assert_int_equal(build(&f, BX_PRUNE_LABEL, none, &err), 0);
	assert_true(bx_prune_labels_match(&f, NULL));
	bx_prune_filter_free(&f);
	json_decref(labels);
	json_decref(empty);
}

static void test_time_arguments(void **state)
{
	long long t;
	assert_int_equal(bx_time_arg("10m", NOW, &t), 0);
	assert_int_equal(t, NOW - 600LL * 1000000000LL);
	assert_int_equal(bx_time_arg("1h30m", NOW, &t), 0);
	assert_int_equal(t, NOW - 5400LL * 1000000000LL);
	assert_int_equal(bx_time_arg("-5s", NOW, &t), 0);
	assert_int_equal(t, NOW + 5LL * 1000000000LL);
	assert_int_equal(bx_time_arg("1700000000", NOW, &t), 0);
	assert_int_equal(t, NOW);
	assert_int_equal(bx_time_arg("2023-11-14T22:13:20Z", NOW, &t), 0);
	assert_int_equal(t, NOW);
	assert_int_equal(bx_time_arg("garbage", NOW, &t), -1);
	assert_int_equal(bx_time_arg("10x", NOW, &t), -1);
	assert_int_equal(bx_time_arg("", NOW, &t), -1);
	assert_int_equal(bx_time_arg("-", NOW, &t), -1);
	/* past 2255 nanoseconds overflow: refused, not wrapped (a fuzzer's find) */
	assert_int_equal(bx_time_arg("4046-11-14T23:13:20", NOW, &t), -1);
	assert_int_equal(bx_time_arg("4046-11-14T23:13:20Z", NOW, &t), -1);
	assert_int_equal(bx_time_arg("2023-11-14T22:13:20.5e9", NOW, &t), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_format_is_a_flag_error),
		cmocka_unit_test(test_keys_each_command_takes),
		cmocka_unit_test(test_values_the_daemon_refuses),
		cmocka_unit_test(test_until),
		cmocka_unit_test(test_labels_match_as_docker),
		cmocka_unit_test(test_time_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
