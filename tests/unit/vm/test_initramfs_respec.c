/* bx_initramfs_box_respec: a box's initramfs (a base, then the box's
 * "boxvm/spec" segment) read back, its spec changed and written anew, the
 * base kept byte for byte; a file without a spec refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/paths.h"
#include "proto/spec.h"
#include "vm/kernel.h"

static int add_limit(struct bx_spec *s, void *ctx, struct bx_err *err)
{
	return bx_spec_add_cgroup(s, ctx, err);
}

static void respec_keeps_the_base_and_changes_the_spec(void **state)
{
	char dir[] = "/tmp/boxvm-respec-XXXXXX", base[64], box[64];
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base", dir);
	snprintf(box, sizeof(box), "%s/box", dir);
	struct bx_err err = {0};
	/* a base of its own entries (the agent and modules in real life) */
	struct bx_cpio c = {0};
	assert_int_equal(bx_cpio_add(&c, "init", S_IFREG | 0755, "#!agent", 7, &err), 0);
	assert_int_equal(bx_cpio_finish(&c, &err), 0);
	assert_int_equal(bx_write_file_atomic(base, c.buf, c.len, 0600, &err), 0);
	struct bx_spec s = {0};
	char *args[] = {"sleep", "60", NULL};
	s.args = args;
	s.nargs = 2;
	uint8_t *enc;
	size_t enc_len;
	assert_int_equal(bx_spec_add_cgroup(&s, "pids.max=64", &err), 0);
	assert_int_equal(bx_spec_encode(&s, &enc, &enc_len, &err), 0);
	assert_int_equal(bx_initramfs_box(base, enc, enc_len, box, &err), 0);
	free(enc);

	assert_int_equal(bx_initramfs_box_respec(box, add_limit, "memory.max=1048576", &err), 0);
	char *text;
	size_t len;
	assert_int_equal(bx_read_file(box, &text, &len, &err), 0);
	assert_true(len > c.len);
	assert_memory_equal(text, c.buf, c.len); /* the base, untouched */
	/* the spec again, with both limits (twice over: it can be done again) */
	assert_int_equal(bx_initramfs_box_respec(box, add_limit, "cpu.weight=20", &err), 0);
	free(text);
	assert_int_equal(bx_read_file(box, &text, &len, &err), 0);
	const char *name = memmem(text + c.len, len - c.len, "boxvm/spec", 11);
	assert_non_null(name);
	size_t data = (size_t)(name - text - 110) + ((110 + 11 + 3) & ~3u);
	struct bx_spec back = {0};
	unsigned long fsize = strtoul((char[9]){name[-110 + 54], name[-110 + 55], name[-110 + 56], name[-110 + 57],
					       name[-110 + 58], name[-110 + 59], name[-110 + 60], name[-110 + 61], 0},
				      NULL, 16);
	assert_int_equal(bx_spec_decode(&back, (const uint8_t *)text + data, fsize, &err), 0);
	assert_int_equal(back.ncgroup, 3);
	assert_string_equal(back.cgroup[0], "pids.max=64");
	assert_string_equal(back.cgroup[1], "memory.max=1048576");
	assert_string_equal(back.cgroup[2], "cpu.weight=20");
	assert_string_equal(back.args[0], "sleep");
	bx_spec_free(&back);
	free(text);

	/* no spec in it: refused, the file left as it was */
	assert_int_equal(bx_initramfs_box_respec(base, add_limit, "pids.max=1", &err), -1);
	assert_non_null(strstr(err.msg, "holds no box spec"));
	bx_cpio_free(&c);
	free(s.cgroup[0]);
	free(s.cgroup);
	unlink(base);
	unlink(box);
	rmdir(dir);
}

/* bx_initramfs_box_spec: what a warm-pool VM is sent (the spec bytes as
 * encoded), only for a box made from the VM's own base (another agent: refused). */
static void box_spec_is_read_only_over_its_own_base(void **state)
{
	char dir[] = "/tmp/boxvm-boxspec-XXXXXX", base[64], other[64], box[64];
	assert_non_null(mkdtemp(dir));
	snprintf(base, sizeof(base), "%s/base", dir);
	snprintf(other, sizeof(other), "%s/other", dir);
	snprintf(box, sizeof(box), "%s/box", dir);
	struct bx_err err = {0};
	struct bx_cpio c = {0}, d = {0};
	assert_int_equal(bx_cpio_add(&c, "init", S_IFREG | 0755, "#!agent", 7, &err), 0);
	assert_int_equal(bx_cpio_finish(&c, &err), 0);
	assert_int_equal(bx_write_file_atomic(base, c.buf, c.len, 0600, &err), 0);
	assert_int_equal(bx_cpio_add(&d, "init", S_IFREG | 0755, "#!AGENT", 7, &err), 0);
	assert_int_equal(bx_cpio_finish(&d, &err), 0);
	assert_int_equal(bx_write_file_atomic(other, d.buf, d.len, 0600, &err), 0);
	struct bx_spec s = {0};
	char *args[] = {"echo", "pool", NULL};
	s.args = args;
	s.nargs = 2;
	uint8_t *enc, *got;
	size_t enc_len, got_len;
	assert_int_equal(bx_spec_encode(&s, &enc, &enc_len, &err), 0);
	assert_int_equal(bx_initramfs_box(base, enc, enc_len, box, &err), 0);
	assert_int_equal(bx_initramfs_box_spec(base, box, &got, &got_len, &err), 0);
	assert_int_equal(got_len, enc_len);
	assert_memory_equal(got, enc, enc_len);
	free(got);
	assert_int_equal(bx_initramfs_box_spec(other, box, &got, &got_len, &err), -1);
	assert_non_null(strstr(err.msg, "another agent"));
	assert_int_equal(bx_initramfs_box_spec(base, base, &got, &got_len, &err), -1);
	assert_non_null(strstr(err.msg, "holds no box spec"));
	free(enc);
	bx_cpio_free(&c);
	bx_cpio_free(&d);
	unlink(base);
	unlink(other);
	unlink(box);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(respec_keeps_the_base_and_changes_the_spec),
		cmocka_unit_test(box_spec_is_read_only_over_its_own_base),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
