/* ADD's remote sources (registry/fetch.h), the pure part: which sources
 * are URLs (Docker's isURL) and the name a download gets (Go's url.Parse
 * Path, then its last component). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "image/registry/fetch.h"

static void test_what_is_a_url(void **state)
{
	assert_true(bx_url_is_remote("http://example.com/a"));
	assert_true(bx_url_is_remote("https://example.com/a"));
	assert_false(bx_url_is_remote("ftp://example.com/a"));
	assert_false(bx_url_is_remote("HTTP://example.com/a")); /* Docker's prefix test is exact */
	assert_false(bx_url_is_remote("http:/example.com/a"));
	assert_false(bx_url_is_remote("dir/http://x"));
}

static void name_is(const char *url, const char *want)
{
	char out[256];
	struct bx_err err = {0};
	assert_int_equal(bx_url_file_name(url, out, sizeof(out), &err), 0);
	assert_string_equal(out, want);
}

static void test_file_names(void **state)
{
	name_is("http://h/a/b/file.txt", "file.txt");
	name_is("http://h:8080/file.tar.gz?x=1/2#frag/3", "file.tar.gz"); /* no query, no fragment */
	name_is("https://h/a%20b%2Bc.txt", "a b+c.txt");                   /* decoded, as Go's Path */
	name_is("http://h/a/../b", "b");
	name_is("http://h/dir/", "");  /* a directory: dest must name the file */
	name_is("http://h", "");
	name_is("http://h?x=/y", "");
	name_is("http://h/a/..", "");  /* "..": no name (never the parent directory) */
	name_is("http://h/.", "");
	name_is("http://h/a%2F..", ""); /* an encoded slash is a slash once decoded */
}

static void test_bad_names(void **state)
{
	char out[256], small[4];
	struct bx_err err = {0};
	assert_int_equal(bx_url_file_name("http://h/a%00b", out, sizeof(out), &err), -1);
	assert_int_equal(bx_url_file_name("http://h/a%zzb", out, sizeof(out), &err), -1);
	assert_int_equal(bx_url_file_name("http://h/a%2", out, sizeof(out), &err), -1);
	assert_int_equal(bx_url_file_name("http://h/longname", small, sizeof(small), &err), -1);
	assert_int_equal(bx_url_file_name("nourl", out, sizeof(out), &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_what_is_a_url),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_bad_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
