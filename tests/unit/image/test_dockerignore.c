/* .dockerignore patterns (dockerignore.h) as Docker's patternmatcher reads them. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "image/dockerignore.h"

static void test_patterns(void **state)
{
	(void)state;
	struct bx_ignore ig;
	struct bx_err err = {0};
	const char *text = "# comment\n\n/secret.txt\n*.log\n!keep.log\nbuild/\n**/*.tmp\ndocs/*/draft\n./a/../b\n";
	assert_int_equal(bx_ignore_parse(text, strlen(text), &ig, &err), 0);
	assert_int_equal(ig.n, 7);
	assert_true(bx_ignore_match(&ig, "secret.txt"));
	assert_false(bx_ignore_match(&ig, "dir/secret.txt"));
	assert_true(bx_ignore_match(&ig, "x.log"));
	assert_false(bx_ignore_match(&ig, "keep.log"));
	assert_false(bx_ignore_match(&ig, "sub/x.log")); /* '*' stays in its component */
	assert_true(bx_ignore_match(&ig, "build"));
	assert_true(bx_ignore_match(&ig, "build/deep/file")); /* under an excluded directory */
	assert_true(bx_ignore_match(&ig, "a.tmp"));
	assert_true(bx_ignore_match(&ig, "x/y/z.tmp"));
	assert_true(bx_ignore_match(&ig, "docs/en/draft"));
	assert_false(bx_ignore_match(&ig, "docs/draft"));
	assert_true(bx_ignore_match(&ig, "b"));
	assert_false(bx_ignore_match(&ig, "a"));
	bx_ignore_free(&ig);
}

static void test_glob(void **state)
{
	(void)state;
	assert_true(bx_glob_match("*.txt", "a.txt"));
	assert_false(bx_glob_match("*.txt", "d/a.txt"));
	assert_true(bx_glob_match("d/[a-c]?.txt", "d/b1.txt"));
	assert_false(bx_glob_match("d/[!a-c]?.txt", "d/b1.txt"));
	assert_true(bx_glob_match("**/x", "x"));
	assert_true(bx_glob_match("**/x", "a/b/x"));
	assert_true(bx_glob_match("a\\*", "a*"));
	assert_false(bx_glob_match("a\\*", "ab"));
	assert_false(bx_glob_match("[a", "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_glob),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
