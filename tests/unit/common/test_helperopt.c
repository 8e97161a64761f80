#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/helperopt.h"

/* a path may not add options of its own: ',' and '\' are escaped as fuse_opt unescapes them */
static void test_fuse_opt_escapes(void **state)
{
	char out[64];
	struct bx_err err = {0};
	assert_int_equal(bx_fuse_opt(out, sizeof(out), "source", "/plain/dir", &err), 0);
	assert_string_equal(out, "source=/plain/dir");
	assert_int_equal(bx_fuse_opt(out, sizeof(out), "source", "/tmp/a,source=/etc", &err), 0);
	assert_string_equal(out, "source=/tmp/a\\,source=/etc");
	assert_int_equal(bx_fuse_opt(out, sizeof(out), "source", "/x\\,y", &err), 0);
	assert_string_equal(out, "source=/x\\\\\\,y");
	assert_int_equal(bx_fuse_opt(out, sizeof(out), "source", "", &err), 0);
	assert_string_equal(out, "source=");
}

static void test_fuse_opt_too_long(void **state)
{
	char out[13];
	struct bx_err err = {0};
	assert_int_equal(bx_fuse_opt(out, sizeof(out), "source", "/abcd", &err), 0); /* exactly fits */
	assert_string_equal(out, "source=/abcd");
	assert_int_equal(bx_fuse_opt(out, sizeof(out) - 1, "source", "/abcd", &err), -1);
	assert_non_null(strstr(err.msg, "too long"));
	/* the escape counts: "source=/ab\,d" needs 14 bytes */
	assert_int_equal(bx_fuse_opt(out, sizeof(out), "source", "/ab,d", &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fuse_opt_escapes),
		cmocka_unit_test(test_fuse_opt_too_long),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
