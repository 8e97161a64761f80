/* Snapshots of an upper dir between a build VM's steps (upper_snap.h): walk
 * order, what counts as unchanged, and which paths a step removed. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "image/upper_snap.h"

static struct stat st_of(mode_t mode, ino_t ino, long ctime_ns)
{
	struct stat st;
	memset(&st, 0, sizeof(st));
	st.st_mode = mode;
	st.st_ino = ino;
	st.st_nlink = 1;
	st.st_ctim.tv_sec = 100;
	st.st_ctim.tv_nsec = ctime_ns;
	return st;
}

static void add(struct bx_upper_snap *s, const char *path, mode_t mode, ino_t ino)
{
	struct bx_err err = {0};
	struct stat st = st_of(mode, ino, 0);
	assert_int_equal(bx_upper_snap_add(s, path, &st, false, false, &err), 0);
}

static void test_walk_order(void **state)
{
	(void)state;
	assert_true(bx_snap_path_cmp("a", "a/b") < 0);
	assert_true(bx_snap_path_cmp("a/b", "a.b") < 0); /* a directory's children before its next sibling */
	assert_true(bx_snap_path_cmp("a/z", "a-b") < 0);
	assert_true(bx_snap_path_cmp("ab", "a/b") > 0);
	assert_int_equal(bx_snap_path_cmp("x/y", "x/y"), 0);
	struct bx_upper_snap s = {0};
	struct bx_err err = {0};
	add(&s, "a", S_IFDIR | 0755, 1);
	add(&s, "a/b", S_IFREG | 0644, 2);
	add(&s, "a.b", S_IFREG | 0644, 3);
	struct stat st = st_of(S_IFREG, 4, 0);
	assert_int_equal(bx_upper_snap_add(&s, "a/c", &st, false, false, &err), -1); /* out of walk order */
	assert_non_null(bx_upper_snap_find(&s, "a/b"));
	assert_non_null(bx_upper_snap_find(&s, "a.b"));
	assert_null(bx_upper_snap_find(&s, "a/c"));
	assert_null(bx_upper_snap_find(NULL, "a"));
	bx_upper_snap_free(&s);
}

static void test_same(void **state)
{
	(void)state;
	struct bx_upper_snap s = {0};
	add(&s, "f", S_IFREG | 0644, 7);
	const struct bx_snap_entry *was = bx_upper_snap_find(&s, "f");
	struct stat st = st_of(S_IFREG | 0644, 7, 0);
	assert_true(bx_upper_snap_same(was, &st, false, false));
	st.st_ctim.tv_nsec = 1; /* written to again: same size and mtime, the host's ctime moved */
	assert_false(bx_upper_snap_same(was, &st, false, false));
	st = st_of(S_IFREG | 0644, 8, 0); /* another file under the name */
	assert_false(bx_upper_snap_same(was, &st, false, false));
	st = st_of(S_IFREG | 0644, 7, 0);
	assert_false(bx_upper_snap_same(was, &st, true, false)); /* now a whiteout */
	assert_false(bx_upper_snap_same(was, &st, false, true));
	bx_upper_snap_free(&s);
}

struct gone_list {
	char names[16][32];
	int n;
};

static int on_gone(void *ctx, const struct bx_snap_entry *gone, struct bx_err *err)
{
	(void)err;
	struct gone_list *g = ctx;
	strcpy(g->names[g->n++], gone->path);
	return 0;
}

static void test_gone(void **state)
{
	(void)state;
	struct bx_upper_snap before = {0}, after = {0};
	struct bx_err err = {0};
	add(&before, "d", S_IFDIR | 0755, 1);  /* removed with its children: one whiteout */
	add(&before, "d/e", S_IFDIR | 0755, 2);
	add(&before, "d/e/x", S_IFREG | 0644, 3);
	add(&before, "keep", S_IFREG | 0644, 4);
	add(&before, "n", S_IFDIR | 0755, 5);  /* now a file: it took the subtree's place */
	add(&before, "n/a", S_IFREG | 0644, 6);
	add(&before, "one", S_IFREG | 0644, 7); /* removed */
	add(&before, "r", S_IFDIR | 0755, 8);  /* made anew: what it held before is gone name by name */
	add(&before, "r/old", S_IFREG | 0644, 9);
	add(&after, "keep", S_IFREG | 0644, 4);
	add(&after, "n", S_IFREG | 0644, 10);
	add(&after, "r", S_IFDIR | 0755, 11);
	add(&after, "r/new", S_IFREG | 0644, 12);
	struct gone_list g = {0};
	assert_int_equal(bx_upper_snap_gone(&before, &after, on_gone, &g, &err), 0);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.names[0], "d");
	assert_string_equal(g.names[1], "one");
	assert_string_equal(g.names[2], "r/old");
	/* an empty snapshot before: nothing is gone */
	struct bx_upper_snap empty = {0};
	g.n = 0;
	assert_int_equal(bx_upper_snap_gone(&empty, &after, on_gone, &g, &err), 0);
	assert_int_equal(g.n, 0);
	bx_upper_snap_free(&before);
	bx_upper_snap_free(&after);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_walk_order),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_gone),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
