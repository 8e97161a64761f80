/* The tree walk and the layer writer (tree_walk.h, layer_write.h) on real
 * trees: entry order, whiteouts, opaque dirs, hardlinks, symlinks never
 * followed, specials, the bounds; and the changes (changes.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "common/paths.h"
#include "image/changes.h"
#include "image/layer_write.h"
#include "image/tree_walk.h"

static char base[64], upper[128], lower[128];
static int upfd = -1, lowfd = -1;

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/bx-lw-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(upper, sizeof(upper), "%s/upper", base);
	snprintf(lower, sizeof(lower), "%s/lower", base);
	assert_int_equal(mkdir(upper, 0755), 0);
	assert_int_equal(mkdir(lower, 0755), 0);
	upfd = open(upper, O_RDONLY | O_DIRECTORY);
	lowfd = open(lower, O_RDONLY | O_DIRECTORY);
	assert_true(upfd >= 0 && lowfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	close(upfd);
	close(lowfd);
	bx_rm_rf(base, NULL);
	return 0;
}

static void put(int dirfd, const char *path, const char *text)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

struct buf {
	char *data;
	size_t len;
};

static int to_buf(void *ctx, const void *data, size_t len, struct bx_err *err)
{
	struct buf *b = ctx;
	b->data = realloc(b->data, b->len + len);
	memcpy(b->data + b->len, data, len);
	b->len += len;
	return 0;
}

/* the tar's entries as "TYPE PATH[ -> TARGET]" lines */
static char *listing(struct buf *b)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	assert_int_equal(archive_read_open_memory(a, b->data, b->len), ARCHIVE_OK);
	char *out = calloc(1, 65536);
	struct archive_entry *e;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char type = archive_entry_hardlink(e) ? 'h' : archive_entry_filetype(e) == AE_IFDIR ? 'd'
			    : archive_entry_filetype(e) == AE_IFLNK ? 'l' : archive_entry_filetype(e) == AE_IFIFO ? 'p'
			    : archive_entry_filetype(e) == AE_IFCHR ? 'c' : 'f';
		const char *target = archive_entry_hardlink(e) ? archive_entry_hardlink(e) : archive_entry_symlink(e);
		char line[1024];
		snprintf(line, sizeof(line), "%c %s%s%s\n", type, archive_entry_pathname(e), target ? " -> " : "",
			 target ? target : "");
		strcat(out, line);
	}
	archive_read_free(a);
	return out;
}

static void test_names(void **state)
{
	char out[64];
	assert_int_equal(bx_whiteout_path("a/b", out, sizeof(out)), 0);
	assert_string_equal(out, "a/.wh.b");
	assert_int_equal(bx_whiteout_path("top", out, sizeof(out)), 0);
	assert_string_equal(out, ".wh.top");
	assert_int_equal(bx_whiteout_path("", out, sizeof(out)), -1);
	assert_int_equal(bx_whiteout_path("a/very/long/path/name", out, 8), -1);
	assert_int_equal(bx_opaque_path("a/b", out, sizeof(out)), 0);
	assert_string_equal(out, "a/b/.wh..wh..opq");
	assert_false(bx_layer_name_plain(".wh.x"));
	assert_true(bx_layer_name_plain(".whx"));
	assert_true(bx_walk_runtime_file("etc/hosts"));
	assert_true(bx_walk_runtime_file("etc/resolv.conf"));
	assert_false(bx_walk_runtime_file("etc/passwd"));
	assert_false(bx_walk_runtime_file("x/etc/hosts"));
}

/* a flat tree: sorted order, parents first, links kept as links */
static void test_flat_tar(void **state)
{
	assert_int_equal(mkdirat(upfd, "b", 0755), 0);
	put(upfd, "b/file", "hello");
	assert_int_equal(linkat(upfd, "b/file", upfd, "b/hard", 0), 0);
	assert_int_equal(symlinkat("/etc/shadow", upfd, "a-link"), 0);
	assert_int_equal(symlinkat("/", upfd, "c-dirlink"), 0); /* never entered */
	assert_int_equal(mkfifoat(upfd, "fifo", 0644), 0);
	assert_int_equal(mkdirat(upfd, "name\nwith newline", 0755), 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.60s/sock", upper);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(s);
	struct buf b = {0};
	struct bx_err err = {0};
	char diff_id[80];
	long long size;
	assert_int_equal(bx_tree_tar(upfd, false, -1, to_buf, &b, diff_id, &size, &err), 0);
	assert_int_equal(size, (long long)b.len);
	assert_int_equal(strncmp(diff_id, "sha256:", 7), 0);
	char *l = listing(&b);
	assert_string_equal(l, "l a-link -> /etc/shadow\n"
			       "d b/\n"
			       "f b/file\n"
			       "h b/hard -> b/file\n"
			       "l c-dirlink -> /\n"
			       "p fifo\n"
			       "d name\nwith newline/\n");
	free(l);
	free(b.data);
}

static void test_upper_whiteouts(void **state)
{
	if (mknodat(upfd, "gone", S_IFCHR | 0, makedev(0, 0)) < 0) {
		skip(); /* no CAP_MKNOD here */
		return;
	}
	assert_int_equal(mkdirat(upfd, "etc", 0755), 0);
	put(upfd, "etc/hosts", "127.0.0.1 x\n"); /* the agent's: left out */
	put(upfd, "etc/group", "g\n");
	assert_int_equal(mknodat(upfd, "etc/passwd", S_IFCHR | 0, makedev(0, 0)), 0);
	assert_int_equal(mkdirat(upfd, "opq", 0755), 0);
	put(upfd, "opq/new", "n");
	bool have_opaque = setxattr(upper, "user.overlay.opaque", "y", 1, 0) == 0; /* on the root: ignored */
	char opq[PATH_MAX];
	snprintf(opq, sizeof(opq), "%s/opq", upper);
	have_opaque = setxattr(opq, "user.overlay.opaque", "y", 1, 0) == 0;
	struct buf b = {0};
	struct bx_err err = {0};
	char diff_id[80];
	long long size;
	assert_int_equal(bx_tree_tar(upfd, true, -1, to_buf, &b, diff_id, &size, &err), 0);
	char *l = listing(&b);
	assert_string_equal(l, have_opaque ? "d etc/\nf etc/group\nf etc/.wh.passwd\nf .wh.gone\nd opq/\nf opq/.wh..wh..opq\nf opq/new\n"
					   : "d etc/\nf etc/group\nf etc/.wh.passwd\nf .wh.gone\nd opq/\nf opq/new\n");
	free(l);
	free(b.data);
}

/* a name every reader would take for a whiteout is refused, not written */
static void test_upper_refuses_wh_names(void **state)
{
	put(upfd, ".wh.etc", "");
	struct buf b = {0};
	struct bx_err err = {0};
	char diff_id[80];
	long long size;
	assert_int_equal(bx_tree_tar(upfd, true, -1, to_buf, &b, diff_id, &size, &err), -1);
	assert_non_null(strstr(err.msg, ".wh."));
	free(b.data);
}

static void test_depth_bound(void **state)
{
	int fd = dup(upfd);
	for (int i = 0; i < BX_WALK_MAX_DEPTH + 5; i++) {
		assert_int_equal(mkdirat(fd, "d", 0755), 0);
		int next = openat(fd, "d", O_RDONLY | O_DIRECTORY);
		close(fd);
		fd = next;
	}
	close(fd);
	struct buf b = {0};
	struct bx_err err = {0};
	char diff_id[80];
	long long size;
	assert_int_equal(bx_tree_tar(upfd, true, -1, to_buf, &b, diff_id, &size, &err), -1);
	assert_non_null(strstr(err.msg, "too deep"));
	free(b.data);
}

/* the same bytes give the same diff id (nothing time- or order-dependent) */
static void test_reproducible(void **state)
{
	put(upfd, "x", "1");
	put(upfd, "y", "2");
	struct buf b1 = {0}, b2 = {0};
	struct bx_err err = {0};
	char d1[80], d2[80];
	long long s;
	assert_int_equal(bx_tree_tar(upfd, true, -1, to_buf, &b1, d1, &s, &err), 0);
	assert_int_equal(bx_tree_tar(upfd, true, -1, to_buf, &b2, d2, &s, &err), 0);
	assert_string_equal(d1, d2);
	assert_int_equal(b1.len, b2.len);
	assert_memory_equal(b1.data, b2.data, b1.len);
	free(b1.data);
	free(b2.data);
}

static bool copy_mode;

static char *changes_text(void)
{
	struct bx_change *c;
	size_t n;
	struct bx_err err = {0};
	assert_int_equal(bx_changes(upfd, lowfd, copy_mode, &c, &n, &err), 0);
	char *out = calloc(1, 4096);
	for (size_t i = 0; i < n; i++)
		sprintf(out + strlen(out), "%c %s\n", bx_change_letter(c[i].kind), c[i].path);
	bx_changes_free(c, n);
	return out;
}

/* Docker's overlay2 rules: walk order, a parent listed as changed before
 * an addition under it unless already listed, a copied-up directory with
 * only modified children not listed */
static void test_changes(void **state)
{
	/* lower: etc/{passwd,group}, home/, usr/bin/x */
	assert_int_equal(mkdirat(lowfd, "etc", 0755), 0);
	put(lowfd, "etc/passwd", "p");
	put(lowfd, "etc/group", "g");
	assert_int_equal(mkdirat(lowfd, "usr", 0755), 0);
	assert_int_equal(mkdirat(lowfd, "usr/bin", 0755), 0);
	put(lowfd, "usr/bin/x", "x");
	struct stat st;
	assert_int_equal(fstatat(lowfd, "usr", &st, 0), 0);
	/* upper: usr copied up unchanged (same mode, same time), usr/bin/x modified, usr/bin/new added */
	assert_int_equal(mkdirat(upfd, "usr", 0755), 0);
	struct timespec ts[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(utimensat(upfd, "usr", ts, 0), 0);
	assert_int_equal(mkdirat(upfd, "usr/bin", 0755), 0);
	assert_int_equal(fstatat(lowfd, "usr/bin", &st, 0), 0);
	struct timespec ts2[2] = {st.st_atim, st.st_mtim};
	assert_int_equal(utimensat(upfd, "usr/bin", ts2, 0), 0);
	put(upfd, "usr/bin/x", "changed");
	put(upfd, "new", "n");
	assert_int_equal(mkdirat(upfd, "a", 0755), 0);
	put(upfd, "a/b", "b");
	char *t = changes_text();
	assert_string_equal(t, "A /a\nA /a/b\nA /new\nC /usr/bin/x\n");
	free(t);
	/* a file added under usr/bin: its parent is listed, right before it */
	put(upfd, "usr/bin/y", "y");
	t = changes_text();
	assert_string_equal(t, "A /a\nA /a/b\nA /new\nC /usr/bin\nC /usr/bin/x\nA /usr/bin/y\n");
	free(t);
	/* an aufs-style whiteout file reads as a deletion, as Docker's walk reads it */
	put(upfd, "usr/bin/.wh.gone", "");
	t = changes_text();
	assert_string_equal(t, "A /a\nA /a/b\nA /new\nC /usr/bin\nD /usr/bin/gone\nC /usr/bin/x\nA /usr/bin/y\n");
	free(t);
	assert_int_equal(unlinkat(upfd, "usr/bin/.wh.gone", 0), 0);
	if (mknodat(upfd, "home", S_IFCHR | 0, makedev(0, 0)) == 0) {
		t = changes_text();
		assert_string_equal(t, "A /a\nA /a/b\nD /home\nA /new\nC /usr/bin\nC /usr/bin/x\nA /usr/bin/y\n");
		free(t);
	}
}

/* a box without overlayfs: its whole copy compared with the image's tree
 * gives what an upper dir would have (the same lines, the same layer) */
static void test_copy_compare(void **state)
{
	assert_int_equal(mkdirat(lowfd, "etc", 0755), 0);
	put(lowfd, "etc/passwd", "p");
	put(lowfd, "etc/group", "g");
	put(lowfd, "keep", "k");
	assert_int_equal(mkdirat(lowfd, "home", 0755), 0);
	put(lowfd, "home/f", "f");
	assert_int_equal(symlinkat("/x", lowfd, "ln"), 0);
	/* the copy: same entries with the same times, then the box's changes */
	struct stat st;
	const char *same[] = {"etc", "etc/group", "keep", "ln"};
	assert_int_equal(mkdirat(upfd, "etc", 0755), 0);
	put(upfd, "etc/group", "g");
	put(upfd, "keep", "k");
	assert_int_equal(symlinkat("/x", upfd, "ln"), 0);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(fstatat(lowfd, same[i], &st, AT_SYMLINK_NOFOLLOW), 0);
		struct timespec ts[2] = {st.st_atim, st.st_mtim};
		assert_int_equal(utimensat(upfd, same[i], ts, AT_SYMLINK_NOFOLLOW), 0);
	}
	copy_mode = true;
	char *t = changes_text();
	assert_string_equal(t, "C /etc\nD /etc/passwd\nD /home\n");
	free(t);
	put(upfd, "keep", "changed");
	put(upfd, "new", "n");
	t = changes_text();
	assert_string_equal(t, "C /etc\nD /etc/passwd\nD /home\nC /keep\nA /new\n");
	free(t);
	copy_mode = false;
	struct buf b = {0};
	struct bx_err err = {0};
	char diff_id[80];
	long long size;
	assert_int_equal(bx_tree_tar(upfd, true, lowfd, to_buf, &b, diff_id, &size, &err), 0);
	char *l = listing(&b);
	/* etc's time was kept: only its changes are in the layer */
	assert_string_equal(l, "f etc/.wh.passwd\nf .wh.home\nf keep\nf new\n");
	free(l);
	free(b.data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test_setup_teardown(test_flat_tar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upper_whiteouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_upper_refuses_wh_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reproducible, setup, teardown),
		cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_compare, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
