/* bx_mkdir_p: the leaf gets its mode, missing parents stay private (0700). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"

static unsigned mode_of(const char *base, const char *rel)
{
	char p[PATH_MAX];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", base, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_mode & 07777;
}

static void test_parents_private(void **state)
{
	char base[] = "/tmp/bx-paths-XXXXXX", leaf[PATH_MAX];
	assert_non_null(mkdtemp(base));
	mode_t old = umask(022);
	/* DATA made as the parent of a wider leaf (DATA/initramfs first) stays 0700 */
	snprintf(leaf, sizeof(leaf), "%s/data/initramfs", base);
	assert_int_equal(bx_mkdir_p(leaf, 0755, NULL), 0);
	assert_int_equal(mode_of(base, "data"), 0700);
	assert_int_equal(mode_of(base, "data/initramfs"), 0755);
	/* an existing directory keeps its mode */
	snprintf(leaf, sizeof(leaf), "%s/data", base);
	assert_int_equal(bx_mkdir_p(leaf, 0755, NULL), 0);
	assert_int_equal(mode_of(base, "data"), 0700);
	/* a user's host path (-v) gets Docker's 0755 all the way down */
	snprintf(leaf, sizeof(leaf), "%s/user/a/b", base);
	assert_int_equal(bx_mkdir_p_parents(leaf, 0755, 0755, NULL), 0);
	assert_int_equal(mode_of(base, "user"), 0755);
	assert_int_equal(mode_of(base, "user/a"), 0755);
	umask(old);
	assert_int_equal(bx_rm_rf(base, NULL), 0);
}

/* BOXVM_KERNEL picks the guest kernel's kind, and with it its directory;
 * `kernel prepare` and `kernel build` each name their own kind's. */
static void test_kernel_kind(void **state)
{
	(void)state;
	struct bx_err err = {0};
	struct bx_paths p;
	assert_int_equal(bx_kernel_kind_check("cloud", NULL), 0);
	assert_int_equal(bx_kernel_kind_check("tailored", NULL), 0);
	assert_int_equal(bx_kernel_kind_check("Tailored", &err), -1);
	assert_non_null(strstr(err.msg, "'cloud' or 'tailored'"));
	assert_int_equal(bx_kernel_kind_check("", NULL), -1);
	assert_int_equal(bx_kernel_kind_check(NULL, NULL), -1);

	setenv("BOXVM_ROOT", "/data", 1);
	unsetenv("BOXVM_KERNEL_DIR");
	unsetenv("BOXVM_TAILORED_KERNEL_DIR");
	unsetenv("BOXVM_KERNEL");
	assert_int_equal(bx_paths_init(&p, &err), 0);
	assert_string_equal(p.kernel_kind, "cloud");
	assert_string_equal(p.kernel, "/data/kernel");
	setenv("BOXVM_KERNEL", "tailored", 1);
	assert_int_equal(bx_paths_init(&p, &err), 0);
	assert_string_equal(p.kernel_kind, "tailored");
	assert_string_equal(p.kernel, "/data/kernel-tailored");
	char dir[PATH_MAX];
	assert_int_equal(bx_kernel_dir_of(&p, BX_KERNEL_CLOUD, dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, "/data/kernel");
	setenv("BOXVM_KERNEL_DIR", "/k/cloud", 1);
	setenv("BOXVM_TAILORED_KERNEL_DIR", "/k/mine", 1);
	assert_int_equal(bx_paths_init(&p, &err), 0);
	assert_string_equal(p.kernel, "/k/mine");
	assert_int_equal(bx_kernel_dir_of(&p, BX_KERNEL_CLOUD, dir, sizeof(dir), &err), 0);
	assert_string_equal(dir, "/k/cloud");
	setenv("BOXVM_KERNEL", "debian", 1);
	assert_int_equal(bx_paths_init(&p, &err), -1);
	assert_non_null(strstr(err.msg, "unknown guest kernel 'debian'"));
	unsetenv("BOXVM_KERNEL");
	unsetenv("BOXVM_KERNEL_DIR");
	unsetenv("BOXVM_TAILORED_KERNEL_DIR");
	unsetenv("BOXVM_ROOT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parents_private),
		cmocka_unit_test(test_kernel_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
