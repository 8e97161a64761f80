/* Docker's --ulimit (src/box/ulimits.c): the limits and the words Docker
 * 20.10 (docker-ref) gives for the same flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "box/ulimits.h"

static void test_limits(void **state)
{
	char *u[] = {"nofile=1024:2048", "nproc=77", "core=-1", "stack=8192:-1", NULL};
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_ulimits_apply(u, &s, &err), 0);
	assert_int_equal(s.nrlimits, 4);
	assert_true(s.rlimits[0].resource == RLIMIT_NOFILE && s.rlimits[0].soft == 1024 && s.rlimits[0].hard == 2048);
	assert_true(s.rlimits[1].resource == RLIMIT_NPROC && s.rlimits[1].soft == 77 && s.rlimits[1].hard == 77);
	assert_true(s.rlimits[2].soft == UINT64_MAX && s.rlimits[2].hard == UINT64_MAX);
	assert_true(s.rlimits[3].soft == 8192 && s.rlimits[3].hard == UINT64_MAX);
	bx_spec_free(&s);
	json_t *j = bx_ulimits_json(u);
	char *text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(text, "[{\"Name\":\"core\",\"Hard\":-1,\"Soft\":-1},{\"Name\":\"nofile\",\"Hard\":2048,\"Soft\":1024},"
				  "{\"Name\":\"nproc\",\"Hard\":77,\"Soft\":77},{\"Name\":\"stack\",\"Hard\":-1,\"Soft\":8192}]");
	free(text);
	json_decref(j);
	j = bx_ulimits_json(NULL);
	assert_true(json_is_null(j));
	json_decref(j);
}

static void test_errors(void **state)
{
	struct bx_err err;
	static const struct {
		const char *arg, *says;
	} cases[] = {
		{"foo=1", "invalid argument \"foo=1\" for \"--ulimit\" flag: invalid ulimit type: foo"},
		{"as=1", "invalid ulimit type: as"}, /* go-units has no "as" */
		{"NOFILE=1", "invalid ulimit type: NOFILE"},
		{"nofile=3:2", "ulimit soft limit must be less than or equal to hard limit: 3 > 2"},
		{"nofile=-1:2", "ulimit soft limit must be less than or equal to hard limit: -1 > 2"},
		{"nofile", "invalid ulimit argument: nofile"},
		{"nofile=x", "invalid ulimit value"},
		{"nofile=1:", "invalid ulimit value"},
		{"nofile=-2", "invalid ulimit value"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *u[] = {(char *)cases[i].arg, NULL};
		assert_int_equal(bx_ulimits_apply(u, NULL, &err), -1);
		if (!strstr(err.msg, cases[i].says))
			fail_msg("%s: '%s' does not say '%s'", cases[i].arg, err.msg, cases[i].says);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
