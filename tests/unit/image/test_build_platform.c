/* A build's --platform (build_platform.h): the host's own in Docker's
 * spellings is taken, any other platform or a malformed one refused. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "image/build_platform.h"

static void test_ours(void **state)
{
	(void)state;
	struct bx_err err = {0};
	const char *ok[] = {"linux/amd64", "linux/x86_64", "Linux/AMD64", "linux", "amd64", "x86_64",
			    "linux/amd64/v1", "linux/x86-64"};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		assert_int_equal(bx_build_platform_check(ok[i], &err), 0);
}

static void test_others(void **state)
{
	(void)state;
	struct bx_err err = {0};
	const char *other[] = {"linux/arm64", "windows/amd64", "arm64", "linux/amd64/v3", "bogus", "darwin"};
	for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_int_equal(bx_build_platform_check(other[i], &err), -1);
		assert_non_null(strstr(err.msg, "boxvm builds linux/amd64 images only"));
	}
	assert_string_equal(err.msg, "platform \"darwin\" is not supported: boxvm builds linux/amd64 images only (its "
				     "boxes are x86-64 microVMs)");
	const char *bad[] = {"", "/", "linux/", "/amd64", "linux/amd64/v1/x", "linux amd64", "$BUILDPLATFORM"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bx_build_platform_check(bad[i], &err), -1);
		assert_non_null(strstr(err.msg, "invalid platform"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ours),
		cmocka_unit_test(test_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
