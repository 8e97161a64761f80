/* A Dockerfile's text into instructions (dockerfile.h): directives,
 * comments, continuations, flags, errors with their line, substitution. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "image/dockerfile.h"

static int parse(const char *text, struct bx_dockerfile *df, struct bx_err *err)
{
	return bx_dockerfile_parse(text, strlen(text), df, err);
}

static void test_lines(void **state)
{
	(void)state;
	struct bx_dockerfile df;
	struct bx_err err = {0};
	const char *text = "# syntax=docker/dockerfile:1\n"
			   "# a comment\n"
			   "FROM busybox AS base\n"
			   "\n"
			   "RUN echo a \\\n"
			   "  # a comment inside\n"
			   "    && echo b\n"
			   "  copy --chown=1:2 a b /dst/\n"
			   "CMD [\"sh\", \"-c\", \"x\"]\n"
			   "ENV A=1";
	assert_int_equal(parse(text, &df, &err), 0);
	assert_true(df.syntax_given);
	assert_int_equal(df.n, 5);
	assert_int_equal(df.steps[0].line, 3);
	assert_string_equal(df.steps[0].in.keyword, "FROM");
	assert_string_equal(df.steps[0].in.rest, "busybox AS base");
	assert_int_equal(df.steps[1].line, 5);
	assert_string_equal(df.steps[1].in.rest, "echo a     && echo b");
	assert_int_equal(df.steps[2].line, 8);
	assert_string_equal(df.steps[2].in.keyword, "COPY");
	assert_string_equal(df.steps[2].written, "copy"); /* as written: Docker's "Step" line shows it */
	assert_string_equal(df.steps[0].written, "FROM");
	assert_string_equal(df.steps[2].in.rest, "a b /dst/");
	char v[64];
	assert_int_equal(bx_df_flag(&df.steps[2], "chown", v, sizeof(v), &err), 1);
	assert_string_equal(v, "1:2");
	assert_int_equal(bx_df_flag(&df.steps[2], "from", v, sizeof(v), &err), 0);
	assert_true(df.steps[3].in.json);
	assert_int_equal(df.steps[3].in.nargs, 3);
	assert_string_equal(df.steps[4].in.rest, "A=1");
	bx_dockerfile_free(&df);
}

static void test_escape(void **state)
{
	(void)state;
	struct bx_dockerfile df;
	struct bx_err err = {0};
	assert_int_equal(parse("# escape=`\nFROM scratch\nRUN dir c:\\ `\n  x\n", &df, &err), 0);
	assert_int_equal(df.escape, '`');
	assert_string_equal(df.steps[1].in.rest, "dir c:\\   x");
	bx_dockerfile_free(&df);
	/* a directive after the first instruction or comment is a comment */
	assert_int_equal(parse("FROM scratch\n# escape=`\nRUN a `\n", &df, &err), 0);
	assert_string_equal(df.steps[1].in.rest, "a `");
	bx_dockerfile_free(&df);
	assert_int_equal(parse("# escape=x\nFROM scratch\n", &df, &err), -1);
	assert_non_null(strstr(err.msg, "invalid ESCAPE"));
}

static void test_errors(void **state)
{
	(void)state;
	struct bx_dockerfile df;
	struct bx_err err = {0};
	assert_int_equal(parse("FROM scratch\nENV A=b\n# c\nFOO bar\n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 4: unknown instruction: FOO");
	assert_int_equal(parse("FROM scratch\nRUN --mount=type=cache x\n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 2: Unknown flag: mount");
	assert_int_equal(parse("# only\n\n", &df, &err), -1);
	assert_non_null(strstr(err.msg, "cannot be empty"));
	assert_int_equal(bx_dockerfile_parse("FROM a\0b", 8, &df, &err), -1);
}

static void test_expand(void **state)
{
	(void)state;
	char *vars[] = {"A=1", "B=two", "A=3", "E="};
	char *out;
	struct bx_err err = {0};
	assert_int_equal(bx_df_expand("$A ${B} x${C}y ${E:-d} ${B:+set} ${C:+no} \\$A '$A'", '\\', vars, 4, &out, &err),
			 0);
	assert_string_equal(out, "3 two xy d set  $A '$A'");
	free(out);
	assert_int_equal(bx_df_expand("${A", '\\', vars, 4, &out, &err), -1);
}

/* ONBUILD's trigger keyword is checked at parse time, in Docker's words;
 * the trigger is kept as written (Docker records it unsubstituted) */
static void test_onbuild(void **state)
{
	(void)state;
	struct bx_dockerfile df;
	struct bx_err err = {0};
	assert_int_equal(parse("FROM scratch\nONBUILD onbuild RUN x\n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 2: Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	assert_int_equal(parse("FROM scratch\n\nONBUILD from busybox\n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 3: FROM isn't allowed as an ONBUILD trigger");
	assert_int_equal(parse("FROM scratch\nONBUILD MAINTAINER me\n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
	assert_int_equal(parse("FROM scratch\nONBUILD   \n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 2: ONBUILD requires at least one argument");
	assert_int_equal(parse("FROM scratch\nONBUILD --chown=1 COPY a b\n", &df, &err), -1);
	assert_string_equal(err.msg, "dockerfile parse error line 2: Unknown flag: chown");
	assert_int_equal(parse("FROM scratch\nonbuild   env  A=$B  C=d\nONBUILD run echo \\\n  more\n", &df, &err), 0);
	assert_string_equal(df.steps[1].in.keyword, "ONBUILD");
	assert_string_equal(df.steps[1].in.rest, "env  A=$B  C=d");
	assert_string_equal(df.steps[2].in.rest, "run echo   more");
	bx_dockerfile_free(&df);
	assert_int_equal(bx_df_trigger_allowed("copy", &err), 0);
	assert_int_equal(bx_df_trigger_allowed("from", &err), -1);
}

/* --target: the build ends with the named stage (case-insensitive), so its
 * steps and every stage before it are built, none after */
static void test_target(void **state)
{
	(void)state;
	struct bx_dockerfile df;
	struct bx_err err = {0};
	size_t end;
	assert_int_equal(parse("ARG X=1\nFROM busybox AS a\nENV A=1\nFROM a as Mid\nENV B=1\nFROM scratch\nENV C=1\n",
			       &df, &err), 0);
	assert_int_equal(bx_df_target_end(&df, "a", &end, &err), 0);
	assert_int_equal(end, 3);
	assert_int_equal(bx_df_target_end(&df, "MID", &end, &err), 0);
	assert_int_equal(end, 5);
	assert_int_equal(bx_df_target_end(&df, "scratch", &end, &err), -1);
	assert_string_equal(err.msg, "failed to reach build target scratch in Dockerfile");
	assert_int_equal(bx_df_target_end(&df, "1", &end, &err), -1); /* names only, not indexes */
	bx_dockerfile_free(&df);
	assert_int_equal(parse("FROM busybox\nFROM busybox AS last\n", &df, &err), 0);
	assert_int_equal(bx_df_target_end(&df, "last", &end, &err), 0);
	assert_int_equal(end, 2);
	bx_dockerfile_free(&df);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_onbuild),
		cmocka_unit_test(test_target),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
