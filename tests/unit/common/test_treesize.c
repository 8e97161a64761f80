/* bx_tree_bytes (treesize.h): files and symlinks counted, directories not,
 * a hard-linked file once, links not followed, a missing path 0. */
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
#include "common/treesize.h"

static char scratch[] = "/tmp/test_treesize.XXXXXX";

static int setup(void **state)
{
	return mkdtemp(scratch) ? 0 : -1;
}

static int teardown(void **state)
{
	return bx_rm_rf(scratch, NULL);
}

static void put(const char *rel, size_t n)
{
	char p[PATH_MAX];
	snprintf(p, sizeof(p), "%s/%s", scratch, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)n), 0);
	close(fd);
}

static void test_sizes_files_links_once(void **state)
{
	char p[PATH_MAX], q[PATH_MAX];
	assert_int_equal(bx_tree_bytes(scratch), 0);
	snprintf(p, sizeof(p), "%s/d", scratch);
	assert_int_equal(mkdir(p, 0755), 0);
	put("a", 1000);
	put("d/b", 2500);
	assert_int_equal(bx_tree_bytes(scratch), 3500);
	/* a second name for d/b adds nothing */
	snprintf(p, sizeof(p), "%s/d/b", scratch);
	snprintf(q, sizeof(q), "%s/hard", scratch);
	assert_int_equal(link(p, q), 0);
	assert_int_equal(bx_tree_bytes(scratch), 3500);
	/* a symlink counts its own length, never its target ("/" is not walked) */
	snprintf(q, sizeof(q), "%s/up", scratch);
	assert_int_equal(symlink("/", q), 0);
	assert_int_equal(bx_tree_bytes(scratch), 3501);
	snprintf(q, sizeof(q), "%s/d", scratch);
	assert_int_equal(bx_tree_bytes(q), 2500);
}

static void test_missing_path_is_zero(void **state)
{
	assert_int_equal(bx_tree_bytes("/nonexistent/boxvm/tree"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes_files_links_once),
		cmocka_unit_test(test_missing_path_is_zero),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
