/* Copying trees that come from a box or an image (treecopy.h): owners and
 * modes, links copied not followed, setuid bits, the depth bound, merging,
 * and resolving inside a root. Runs on a scratch directory (as root for the
 * chown cases, which CI is). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "common/treecopy.h"

static char scratch[] = "/tmp/test_treecopy.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown(void **state)
{
	return bx_rm_rf(scratch, NULL);
}

static int dir_at(const char *rel)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	mkdir(p, 0755);
	int fd = open(p, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	return fd;
}

static void put(int dir, const char *name, const char *text, mode_t mode)
{
	int fd = openat(dir, name, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void test_copy_keeps_modes_owners_and_links(void **state)
{
	int src = dir_at("a-src"), dst = dir_at("a-dst");
	assert_int_equal(mkdirat(src, "tree", 0750), 0);
	int tree = openat(src, "tree", O_RDONLY | O_DIRECTORY);
	put(tree, "conf", "x", 0640);
	put(tree, "suid", "#!", 04755);
	assert_int_equal(fchownat(tree, "conf", 1000, 1001, 0), 0);
	assert_int_equal(symlinkat("/etc/passwd", tree, "link"), 0);
	assert_int_equal(mkfifoat(tree, "fifo", 0620), 0);
	assert_int_equal(fchmodat(tree, "fifo", 0620, 0), 0); /* past the umask */
	struct bx_treecopy_opts keep = {.keep_owner = true};
	struct bx_err err = {0};
	assert_int_equal(bx_tree_copy(src, "tree", dst, "copy", &keep, &err), 0);
	struct stat st;
	assert_int_equal(fstatat(dst, "copy", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(fstatat(dst, "copy/conf", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_uid, 1000);
	assert_int_equal(st.st_gid, 1001);
	assert_int_equal(fstatat(dst, "copy/suid", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0755); /* keep_setid not asked */
	assert_int_equal(fstatat(dst, "copy/link", &st, AT_SYMLINK_NOFOLLOW), 0);
	assert_true(S_ISLNK(st.st_mode)); /* the link, not /etc/passwd's content */
	char target[64] = "";
	assert_true(readlinkat(dst, "copy/link", target, sizeof(target) - 1) > 0);
	assert_string_equal(target, "/etc/passwd");
	assert_int_equal(fstatat(dst, "copy/fifo", &st, 0), 0);
	assert_true(S_ISFIFO(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0620);
	/* the caller's ownership when not kept */
	struct bx_treecopy_opts mine = {.owner_uid = 7, .owner_gid = 8};
	assert_int_equal(bx_tree_copy(src, "tree", dst, "mine", &mine, &err), 0);
	assert_int_equal(fstatat(dst, "mine/conf", &st, 0), 0);
	assert_int_equal(st.st_uid, 7);
	assert_int_equal(st.st_gid, 8);
	close(tree);
	close(src);
	close(dst);
}

/* a tree deeper than the bound fails whole: nothing of it is left */
static void test_depth_bound(void **state)
{
	int src = dir_at("b-src"), dst = dir_at("b-dst");
	char rel[PATH_MAX] = "deep";
	assert_int_equal(mkdirat(src, rel, 0755), 0);
	for (int i = 0; i < BX_TREECOPY_MAX_DEPTH + 1; i++) {
		strcat(rel, "/d");
		assert_int_equal(mkdirat(src, rel, 0755), 0);
	}
	struct bx_treecopy_opts o = {.keep_owner = true};
	struct bx_err err = {0};
	assert_int_equal(bx_tree_copy(src, "deep", dst, "deep", &o, &err), -1);
	assert_non_null(strstr(err.msg, "nested deeper"));
	struct stat st;
	assert_int_equal(fstatat(dst, "deep", &st, AT_SYMLINK_NOFOLLOW), -1);
	close(src);
	close(dst);
}

/* a directory merges into one of the same name; a file replaces a file; a
 * directory and a file do not replace each other */
static void test_merge(void **state)
{
	int src = dir_at("c-src"), dst = dir_at("c-dst");
	assert_int_equal(mkdirat(src, "d", 0755), 0);
	assert_int_equal(mkdirat(dst, "d", 0755), 0);
	int sd = openat(src, "d", O_RDONLY | O_DIRECTORY), dd = openat(dst, "d", O_RDONLY | O_DIRECTORY);
	put(sd, "new", "n", 0644);
	put(sd, "both", "from src", 0644);
	put(dd, "both", "old", 0644);
	put(dd, "mine", "kept", 0644);
	struct bx_err err = {0};
	assert_int_equal(bx_tree_merge(src, "d", dst, "d", &err), 0);
	char buf[16] = "";
	int fd = openat(dd, "both", O_RDONLY);
	assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
	close(fd);
	assert_string_equal(buf, "from src");
	struct stat st;
	assert_int_equal(fstatat(dd, "mine", &st, 0), 0);
	assert_int_equal(fstatat(dd, "new", &st, 0), 0);
	assert_int_equal(fstatat(src, "d", &st, 0), -1); /* moved away whole */
	assert_int_equal(mkdirat(src, "f", 0755), 0);
	put(dst, "f", "file", 0644);
	assert_int_equal(bx_tree_merge(src, "f", dst, "f", &err), -1);
	assert_non_null(strstr(err.msg, "cannot overwrite non-directory"));
	close(sd);
	close(dd);
	close(src);
	close(dst);
}

/* a path through the root's links stays in the root */
static void test_open_in_root(void **state)
{
	int root = dir_at("root");
	assert_int_equal(mkdirat(root, "etc", 0755), 0);
	int etc = openat(root, "etc", O_RDONLY | O_DIRECTORY);
	put(etc, "marker", "inside", 0644);
	assert_int_equal(symlinkat("/etc", root, "abs"), 0);
	assert_int_equal(symlinkat("../../../../../../../etc", root, "up"), 0);
	const char *paths[] = {"/abs/marker", "up/marker", "/../../etc/marker"};
	for (size_t i = 0; i < 3; i++) {
		int fd = bx_open_in_root(root, paths[i], O_RDONLY);
		assert_true(fd >= 0);
		char buf[16] = "";
		assert_true(read(fd, buf, sizeof(buf) - 1) > 0);
		assert_string_equal(buf, "inside");
		close(fd);
	}
	close(etc);
	close(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_copy_keeps_modes_owners_and_links),
		cmocka_unit_test(test_depth_bound),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_open_in_root),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
