/* Dockerfile instructions as commit -c takes them (instr.h): forms, words,
 * and each change applied to a config the way Docker's commit does. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "image/instr.h"

static char *applied(json_t *cfg, const char *line, struct bx_err *err)
{
	struct bx_instr in;
	if (bx_instr_parse(line, &in, err) < 0)
		return NULL;
	int r = bx_instr_apply_change(cfg, &in, err);
	bx_instr_free(&in);
	return r < 0 ? NULL : json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
}

static void expect(const char *start, const char *line, const char *want)
{
	json_t *cfg = json_loads(start, 0, NULL);
	struct bx_err err = {0};
	char *got = applied(cfg, line, &err);
	if (!got)
		fail_msg("%s: %s", line, err.msg);
	assert_string_equal(got, want);
	free(got);
	json_decref(cfg);
}

static void test_forms(void **state)
{
	struct bx_instr in;
	struct bx_err err = {0};
	assert_int_equal(bx_instr_parse("  cmd   [\"a\", \"b c\"]  ", &in, &err), 0);
	assert_string_equal(in.keyword, "CMD");
	assert_true(in.json);
	assert_int_equal(in.nargs, 2);
	assert_string_equal(in.args[1], "b c");
	bx_instr_free(&in);
	/* not an array of strings: the shell form, as Docker */
	assert_int_equal(bx_instr_parse("CMD [1, 2]", &in, &err), 0);
	assert_false(in.json);
	assert_string_equal(in.rest, "[1, 2]");
	bx_instr_free(&in);
	assert_int_equal(bx_instr_parse("CMD [\"a\"", &in, &err), 0);
	assert_false(in.json);
	bx_instr_free(&in);
	assert_int_equal(bx_instr_parse("   ", &in, &err), -1);
	assert_int_equal(bx_instr_parse("AVERYLONGKEYWORDTHATISNOTREAL x", &in, &err), -1);
}

static void test_words(void **state)
{
	char **w;
	size_t n;
	struct bx_err err = {0};
	assert_int_equal(bx_instr_words("a=\"x y\" b='q \\z' c=d\\ e", &w, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(w[0], "a=x y");
	assert_string_equal(w[1], "b=q \\z");
	assert_string_equal(w[2], "c=d e");
	for (size_t i = 0; i < n; i++)
		free(w[i]);
	free(w);
	assert_int_equal(bx_instr_words("a=\"open", &w, &n, &err), -1);
}

static void test_changes(void **state)
{
	expect("{}", "CMD [\"x\"]", "{\"Cmd\":[\"x\"]}");
	expect("{}", "CMD echo hi", "{\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]}");
	expect("{}", "ENTRYPOINT [\"/bin/sh\",\"-c\"]", "{\"Entrypoint\":[\"/bin/sh\",\"-c\"]}");
	/* ENV replaces a key in place, appends a new one */
	expect("{\"Env\":[\"X=1\",\"PATH=/bin\"]}", "ENV A=\"x y\" X=2", "{\"Env\":[\"X=2\",\"PATH=/bin\",\"A=x y\"]}");
	expect("{}", "ENV K some value", "{\"Env\":[\"K=some value\"]}");
	expect("{}", "EXPOSE 80 53/udp 8000-8001", "{\"ExposedPorts\":{\"53/udp\":{},\"80/tcp\":{},\"8000/tcp\":{},\"8001/tcp\":{}}}");
	expect("{\"Labels\":{\"z\":\"1\"}}", "LABEL a=b \"c d\"=\"e f\"", "{\"Labels\":{\"a\":\"b\",\"c d\":\"e f\",\"z\":\"1\"}}");
	expect("{\"WorkingDir\":\"/tmp\"}", "WORKDIR sub", "{\"WorkingDir\":\"/tmp/sub\"}");
	expect("{\"WorkingDir\":\"/tmp\"}", "WORKDIR /abs", "{\"WorkingDir\":\"/abs\"}");
	expect("{}", "WORKDIR rel", "{\"WorkingDir\":\"/rel\"}");
	expect("{}", "VOLUME /v1 /v2", "{\"Volumes\":{\"/v1\":{},\"/v2\":{}}}");
	expect("{}", "VOLUME [\"/data\"]", "{\"Volumes\":{\"/data\":{}}}");
	expect("{}", "USER nobody", "{\"User\":\"nobody\"}");
	expect("{}", "ONBUILD RUN x", "{\"OnBuild\":[\"RUN x\"]}");
}

static void test_refused(void **state)
{
	json_t *cfg = json_object();
	struct bx_err err = {0};
	assert_null(applied(cfg, "STOPSIGNAL 9", &err));
	assert_string_equal(err.msg, "stopsignal is not a valid change command");
	assert_null(applied(cfg, "FOO bar", &err));
	assert_string_equal(err.msg, "foo is not a valid change command");
	assert_null(applied(cfg, "EXPOSE 0", &err));
	assert_null(applied(cfg, "EXPOSE 80/bogus", &err));
	assert_null(applied(cfg, "EXPOSE 70000", &err));
	assert_null(applied(cfg, "ENV", &err));
	assert_null(applied(cfg, "ENV =x", &err));
	assert_null(applied(cfg, "ENV K", &err));
	assert_null(applied(cfg, "USER", &err));
	assert_null(applied(cfg, "WORKDIR", &err));
	assert_null(applied(cfg, "VOLUME [\"\"]", &err));
	json_decref(cfg);
}

/* a Dockerfile's config instructions (bx_instr_apply_build) and ENV's history text */
static void test_build_changes(void **state)
{
	(void)state;
	json_t *cfg = json_object();
	struct bx_err err = {0};
	const char *lines[] = {"SHELL [\"/bin/bash\", \"-c\"]", "CMD echo hi", "STOPSIGNAL SIGINT",
			       "HEALTHCHECK CMD [\"true\"]", "MAINTAINER me"};
	for (size_t i = 0; i < 5; i++) {
		struct bx_instr in;
		assert_int_equal(bx_instr_parse(lines[i], &in, &err), 0);
		assert_int_equal(bx_instr_apply_build(cfg, &in, i == 3 ? "interval=1m\nretries=3\n" : NULL, &err), 0);
		bx_instr_free(&in);
	}
	char *got = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	assert_string_equal(got, "{\"Cmd\":[\"/bin/bash\",\"-c\",\"echo hi\"],\"Healthcheck\":{\"Interval\":60000000000,"
				 "\"Retries\":3,\"Test\":[\"CMD\",\"true\"]},\"Shell\":[\"/bin/bash\",\"-c\"],"
				 "\"StopSignal\":\"SIGINT\"}");
	free(got);
	const char *bad[][2] = {{"SHELL /bin/sh", NULL}, {"HEALTHCHECK CMD", NULL}, {"HEALTHCHECK NONE x", NULL},
				{"HEALTHCHECK CMD x", "interval=5x\n"}, {"HEALTHCHECK CMD x", "retries=0\n"},
				{"STOPSIGNAL", NULL}, {"HEALTHCHECK FOO x", NULL}};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bx_instr in;
		assert_int_equal(bx_instr_parse(bad[i][0], &in, &err), 0);
		assert_int_equal(bx_instr_apply_build(cfg, &in, bad[i][1], &err), -1);
		bx_instr_free(&in);
	}
	struct bx_instr in;
	assert_int_equal(bx_instr_parse("ENV A=\"x y\" B=2", &in, &err), 0);
	char *text = bx_instr_pairs_text(&in, &err);
	assert_string_equal(text, "A=x y B=2");
	free(text);
	bx_instr_free(&in);
	json_decref(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_forms),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_changes),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_build_changes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
