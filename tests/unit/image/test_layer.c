/* bx_layer_apply: whiteouts, links, and refusal of every way out of the root. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../tar_ents.h"
#include "image/image.h"

static char base[64], rootdir[128];
static int rootfd = -1, ntar;

/* apply a layer built from entries; returns bx_layer_apply's result */
static int apply(const struct ent *e, size_t n, bool gzip, struct bx_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/layer%d.tar", base, ntar++);
	write_tar(path, e, n, gzip);
	return bx_layer_apply(rootfd, path, err);
}

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/bx-layer-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(rootdir, sizeof(rootdir), "%s/root", base);
	assert_int_equal(mkdir(rootdir, 0755), 0);
	rootfd = open(rootdir, O_RDONLY | O_DIRECTORY);
	assert_true(rootfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	close(rootfd);
	assert_int_equal(bx_rm_rf(base, NULL), 0);
	return 0;
}

static bool exists_in(const char *dir, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, &st) == 0;
}

static char *slurp(const char *rel)
{
	static char buf[256];
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", rootdir, rel);
	FILE *f = fopen(p, "r");
	assert_non_null(f);
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

static void test_basic(void **state)
{
	struct bx_err err = {0};
	const struct ent l1[] = {
		{"./", 'd', NULL, 0755},
		{"etc/", 'd', NULL, 0755},
		{"etc/passwd", 'f', "root:x:0:0\n", 0600},
		{"etc/link", 'h', "etc/passwd", 0},
		{"bin/sh", 'l', "/bin/busybox", 0},   /* implicit parent "bin" */
		{"/abs/file", 'f', "x", 0},           /* leading "/" is relative to the root */
		{"up", 'l', "../../../etc", 0},       /* stored as-is, never followed here */
	};
	assert_int_equal(apply(l1, sizeof(l1) / sizeof(l1[0]), true, &err), 0);
	assert_string_equal(slurp("etc/passwd"), "root:x:0:0\n");
	struct stat a, b;
	char p[PATH_MAX], t[64] = {0};
	snprintf(p, sizeof(p), "%s/etc/passwd", rootdir);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(a.st_mode & 07777, 0600);
	assert_int_equal(a.st_mtime, 1000000000);
	snprintf(p, sizeof(p), "%s/etc/link", rootdir);
	assert_int_equal(stat(p, &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	snprintf(p, sizeof(p), "%s/bin/sh", rootdir);
	assert_true(readlink(p, t, sizeof(t) - 1) > 0);
	assert_string_equal(t, "/bin/busybox");
	snprintf(p, sizeof(p), "%s/etc", rootdir);
	assert_int_equal(stat(p, &a), 0);
	assert_int_equal(a.st_mtime, 1000000000); /* set after its children were added */
	assert_true(exists_in(rootdir, "abs/file"));
}

static void test_whiteout(void **state)
{
	struct bx_err err = {0};
	const struct ent l1[] = {
		{"a/f1", 'f', "1", 0}, {"a/f2", 'f', "2", 0}, {"a/dir/deep", 'f', "3", 0}, {"keep", 'f', "k", 0},
	};
	const struct ent l2[] = {
		{"a/.wh.f1", 'f', "", 0}, {"a/.wh.dir", 'f', "", 0}, {".wh.nothing-there", 'f', "", 0},
		{"b/.wh.x", 'f', "", 0}, /* parent absent: nothing to hide */
	};
	assert_int_equal(apply(l1, 4, false, &err), 0);
	assert_int_equal(apply(l2, 4, false, &err), 0);
	assert_false(exists_in(rootdir, "a/f1"));
	assert_false(exists_in(rootdir, "a/dir"));
	assert_false(exists_in(rootdir, "a/.wh.f1"));
	assert_true(exists_in(rootdir, "a/f2"));
	assert_true(exists_in(rootdir, "keep"));
	/* a whiteout hides lower content only, not a same-layer sibling */
	const struct ent l3[] = {{"a/f2", 'f', "new", 0}, {"a/.wh.f2", 'f', "", 0}};
	assert_int_equal(apply(l3, 2, false, &err), 0);
	assert_string_equal(slurp("a/f2"), "new");
}

static void test_opaque(void **state)
{
	struct bx_err err = {0};
	const struct ent l1[] = {{"d/x", 'f', "x", 0}, {"d/sub/y", 'f', "y", 0}, {"d/kept/old", 'f', "o", 0}};
	/* same-layer entries before and after the marker both survive; lower ones go,
	 * even inside a directory this layer re-declares */
	const struct ent l2[] = {
		{"d/early", 'f', "e", 0}, {"d/kept/", 'd', NULL, 0}, {"d/.wh..wh..opq", 'f', "", 0},
		{"d/late", 'f', "l", 0},
	};
	assert_int_equal(apply(l1, 3, false, &err), 0);
	assert_int_equal(apply(l2, 4, false, &err), 0);
	assert_false(exists_in(rootdir, "d/x"));
	assert_false(exists_in(rootdir, "d/sub"));
	assert_false(exists_in(rootdir, "d/kept/old"));
	assert_true(exists_in(rootdir, "d/kept"));
	assert_true(exists_in(rootdir, "d/early"));
	assert_true(exists_in(rootdir, "d/late"));
	assert_false(exists_in(rootdir, "d/.wh..wh..opq"));
}

static void test_replace_types(void **state)
{
	struct bx_err err = {0};
	const struct ent l1[] = {{"p/q", 'f', "q", 0}, {"f", 'f', "file", 0}};
	const struct ent l2[] = {{"p", 'f', "now a file", 0}, {"f/", 'd', NULL, 0}};
	assert_int_equal(apply(l1, 2, false, &err), 0);
	assert_int_equal(apply(l2, 2, false, &err), 0);
	assert_string_equal(slurp("p"), "now a file");
	struct stat st;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/f", rootdir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
}

static void expect_refused(const struct ent *e, size_t n, const char *needle)
{
	struct bx_err err = {0};
	assert_int_equal(apply(e, n, false, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("message '%s' lacks '%s'", err.msg, needle);
	assert_false(exists_in(base, "x"));
	assert_false(exists_in(base, "evil"));
	assert_false(exists_in("/", "evil-bx-test"));
}

static void test_refuse_dotdot(void **state)
{
	const struct ent a[] = {{"../x", 'f', "bad", 0}};
	expect_refused(a, 1, "'../x'");
	const struct ent b[] = {{"a/../../x", 'f', "bad", 0}};
	expect_refused(b, 1, "'a/../../x'");
	const struct ent c[] = {{"ok/../x", 'f', "bad", 0}};
	expect_refused(c, 1, "..");
}

static void test_refuse_symlink_lower(void **state)
{
	struct bx_err err = {0};
	const struct ent l1[] = {{"l", 'l', "/", 0}, {"up", 'l', "..", 0}};
	assert_int_equal(apply(l1, 2, false, &err), 0);
	const struct ent l2[] = {{"l/evil-bx-test", 'f', "bad", 0}};
	expect_refused(l2, 1, "symlink 'l'");
	const struct ent l3[] = {{"up/x", 'f', "bad", 0}};
	expect_refused(l3, 1, "symlink 'up'");
	const struct ent l4[] = {{"up/.wh.root", 'f', "", 0}}; /* a whiteout through a symlink too */
	expect_refused(l4, 1, "symlink 'up'");
	assert_true(exists_in(base, "root"));
}

static void test_refuse_symlink_same_layer(void **state)
{
	const struct ent l[] = {{"s", 'l', "..", 0}, {"s/x", 'f', "bad", 0}};
	expect_refused(l, 2, "'s/x'");
}

static void test_refuse_hardlink_out(void **state)
{
	struct bx_err err = {0};
	const struct ent a[] = {{"pw", 'h', "/etc/passwd", 0}}; /* means root/etc/passwd, which is absent */
	assert_int_equal(apply(a, 1, false, &err), -1);
	assert_non_null(strstr(err.msg, "pw"));
	assert_false(exists_in(rootdir, "pw"));
	const struct ent b[] = {{"pw", 'h', "../../etc/passwd", 0}};
	expect_refused(b, 1, "outside the root");
	assert_false(exists_in(rootdir, "pw"));
	/* through a symlink in the root */
	const struct ent c[] = {{"l", 'l', "/etc", 0}, {"pw", 'h', "l/passwd", 0}};
	expect_refused(c, 2, "symlink 'l'");
	assert_false(exists_in(rootdir, "pw"));
}

static void test_nodes(void **state)
{
	struct bx_err err = {0};
	const struct ent l[] = {{"run/fifo", 'p', NULL, 0}, {"dev/null", 'c', NULL, 0}};
	assert_int_equal(apply(l, 2, true, &err), 0);
	struct stat st;
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/run/fifo", rootdir);
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	snprintf(p, sizeof(p), "%s/dev/null", rootdir);
	if (geteuid() != 0) {
		assert_false(exists_in(rootdir, "dev/null")); /* skipped without CAP_MKNOD */
		return;
	}
	assert_int_equal(lstat(p, &st), 0);
	assert_true(S_ISCHR(st.st_mode));
	assert_int_equal(st.st_rdev, makedev(1, 3));
}

static void test_overlay_metadata_never_lands(void **state)
{
	struct bx_err err = {0};
	const struct ent l1[] = {{"a/f", 'f', "lower", 0}, {"a/g", 'f', "kept", 0}};
	const struct ent l2[] = {{"a/f", 'w', NULL, 0}, {"new", 'w', NULL, 0}, {"d", 'x', NULL, 0}};
	assert_int_equal(apply(l1, 2, false, &err), 0);
	assert_int_equal(apply(l2, 3, false, &err), 0);
	/* the 0:0 device hid the lower file, as overlayfs would have, and is not in the cache */
	assert_false(exists_in(rootdir, "a/f"));
	assert_false(exists_in(rootdir, "new"));
	assert_string_equal(slurp("a/g"), "kept");
	char p[PATH_MAX], v[16];
	snprintf(p, sizeof(p), "%s/d", rootdir);
	assert_int_equal(lgetxattr(p, "trusted.overlay.opaque", v, sizeof(v)), -1);
	assert_int_equal(lgetxattr(p, "trusted.overlay.redirect", v, sizeof(v)), -1);
	ssize_t n = lgetxattr(p, "user.keep", v, sizeof(v));
	if (n >= 0) /* the filesystem under /tmp may lack user xattrs */
		assert_memory_equal(v, "k", 1);
	assert_true(bx_layer_xattr_allowed("user.anything"));
	assert_true(bx_layer_xattr_allowed("security.capability"));
	assert_true(bx_layer_xattr_allowed("system.posix_acl_access"));
	assert_true(bx_layer_xattr_allowed("system.posix_acl_default"));
	assert_false(bx_layer_xattr_allowed("trusted.overlay.metacopy"));
	assert_false(bx_layer_xattr_allowed("security.selinux"));
	assert_false(bx_layer_xattr_allowed("user"));
}

static void test_not_a_tar(void **state)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/junk", base);
	FILE *f = fopen(path, "w");
	fputs("this is not a tar archive at all, not even close.................................", f);
	fclose(f);
	struct bx_err err = {0};
	assert_int_equal(bx_layer_apply(rootfd, path, &err), -1);
	assert_non_null(strstr(err.msg, "junk"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_basic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_whiteout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_opaque, setup, teardown),
		cmocka_unit_test_setup_teardown(test_replace_types, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_symlink_lower, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_symlink_same_layer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuse_hardlink_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlay_metadata_never_lands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_not_a_tar, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
