#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vm/mounts.h"

static void test_volume_flags(void **state)
{
	struct bx_mount_req m;
	struct bx_err err = {0};
	assert_int_equal(bx_volume_flag_parse("/host/dir:/data", &m, &err), 0);
	assert_int_equal(m.kind, BX_MNT_BIND);
	assert_string_equal(m.source, "/host/dir");
	assert_string_equal(m.target, "/data");
	assert_false(m.ro);
	assert_int_equal(bx_volume_flag_parse("/f.conf:/etc/app.conf:ro", &m, &err), 0);
	assert_true(m.ro);
	assert_int_equal(bx_volume_flag_parse("data:/var/lib/x/:rw,z", &m, &err), 0);
	assert_int_equal(m.kind, BX_MNT_VOLUME);
	assert_string_equal(m.source, "data");
	assert_string_equal(m.target, "/var/lib/x");
	assert_int_equal(bx_volume_flag_parse("/anon", &m, &err), 0);
	assert_int_equal(m.kind, BX_MNT_VOLUME);
	assert_string_equal(m.source, "");
	assert_string_equal(m.target, "/anon");
}

/* Found by fuzz_mountflags' read-only oracle: the mode list was cut at 63
 * characters, so a trailing "ro" past the cut was dropped and the bind mount
 * came out read-write. */
static void test_volume_long_mode_keeps_ro(void **state)
{
	struct bx_mount_req m;
	struct bx_err err = {0};
	const char *spec = "/srv:/data:nocopy,nocopy,nocopy,nocopy,nocopy,nocopy,nocopy,nocopy,nocopy,ro";
	int rc = bx_volume_flag_parse(spec, &m, &err);
	assert_true(rc == -1 || m.ro);
	assert_int_equal(rc, -1);
	assert_non_null(strstr(err.msg, "mode list too long"));
	assert_int_equal(bx_volume_flag_parse("/srv:/data:z,nocopy,rw,ro", &m, &err), 0);
	assert_true(m.ro);
	assert_true(m.nocopy);
	assert_int_equal(bx_volume_flag_parse("vol:/data", &m, &err), 0);
	assert_false(m.nocopy);
}

static void test_volume_flag_errors(void **state)
{
	struct bx_mount_req m;
	struct bx_err err = {0};
	assert_int_equal(bx_volume_flag_parse("", &m, &err), -1);
	assert_int_equal(bx_volume_flag_parse("/a:rel", &m, &err), -1);
	assert_non_null(strstr(err.msg, "absolute path"));
	assert_int_equal(bx_volume_flag_parse("/a:/", &m, &err), -1);
	assert_int_equal(bx_volume_flag_parse("/a:/b:rx", &m, &err), -1);
	assert_non_null(strstr(err.msg, "invalid mode"));
	assert_int_equal(bx_volume_flag_parse("./rel:/b", &m, &err), -1);
	assert_non_null(strstr(err.msg, "invalid characters for a local volume name"));
	assert_int_equal(bx_volume_flag_parse("/a:/b/../c", &m, &err), -1);
	assert_int_equal(bx_volume_flag_parse("/a:/b:ro:x", &m, &err), -1);
	assert_false(bx_volume_name_valid("a"));
	assert_false(bx_volume_name_valid("-ab"));
	assert_true(bx_volume_name_valid("my_vol.1-2"));
}

static void test_tmpfs_flags(void **state)
{
	struct bx_mount_req m;
	struct bx_err err = {0};
	assert_int_equal(bx_tmpfs_flag_parse("/run:size=64m,mode=1777,exec", &m, &err), 0);
	assert_int_equal(m.kind, BX_MNT_TMPFS);
	assert_string_equal(m.target, "/run");
	assert_string_equal(m.options, "size=64m,mode=1777,exec");
	assert_int_equal(bx_tmpfs_flag_parse("/tmp", &m, &err), 0);
	assert_string_equal(m.options, "");
	assert_int_equal(bx_tmpfs_flag_parse("/run:bogus=1", &m, &err), -1);
	assert_non_null(strstr(err.msg, "unknown option"));
	assert_int_equal(bx_tmpfs_flag_parse("run", &m, &err), -1);
}

static void test_order(void **state)
{
	struct bx_mount_req m[3];
	struct bx_err err = {0};
	memset(m, 0, sizeof(m));
	strcpy(m[0].target, "/a/b/c");
	strcpy(m[1].target, "/a");
	strcpy(m[2].target, "/a/b");
	assert_int_equal(bx_mounts_order(m, 3, &err), 0);
	assert_string_equal(m[0].target, "/a");
	assert_string_equal(m[1].target, "/a/b");
	assert_string_equal(m[2].target, "/a/b/c");
	strcpy(m[2].target, "/a/b");
	assert_int_equal(bx_mounts_order(m, 3, &err), -1);
	assert_non_null(strstr(err.msg, "duplicate mount point"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_volume_flags),
		cmocka_unit_test(test_volume_flag_errors),
		cmocka_unit_test(test_volume_long_mode_keeps_ro),
		cmocka_unit_test(test_tmpfs_flags),
		cmocka_unit_test(test_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
