#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vm/kernel.h"

struct entry {
	char name[256];
	unsigned ino, mode, nlink, size;
	const uint8_t *data;
};

static unsigned field(const uint8_t *h, int i)
{
	char t[9];
	memcpy(t, h + 6 + 8 * i, 8);
	t[8] = '\0';
	for (int j = 0; j < 8; j++)
		assert_true((t[j] >= '0' && t[j] <= '9') || (t[j] >= 'A' && t[j] <= 'F'));
	return (unsigned)strtoul(t, NULL, 16);
}

/* An independent newc reader: checks magic, alignment, trailer, padding. */
static size_t parse(const uint8_t *b, size_t len, struct entry *out, size_t max)
{
	size_t off = 0, n = 0;
	for (;;) {
		assert_true(off % 4 == 0);
		assert_true(off + 110 <= len);
		assert_memory_equal(b + off, "070701", 6);
		struct entry e = {0};
		e.ino = field(b + off, 0);
		e.mode = field(b + off, 1);
		e.nlink = field(b + off, 4);
		e.size = field(b + off, 6);
		unsigned nsize = field(b + off, 11);
		assert_int_equal(field(b + off, 12), 0);
		assert_true(nsize > 1 && nsize < sizeof(e.name));
		memcpy(e.name, b + off + 110, nsize);
		assert_int_equal(e.name[nsize - 1], '\0');
		size_t p = off + 110 + nsize;
		while (p % 4)
			assert_int_equal(b[p++], 0);
		e.data = b + p;
		p += e.size;
		while (p % 4)
			assert_int_equal(b[p++], 0);
		off = p;
		if (!strcmp(e.name, "TRAILER!!!"))
			break;
		assert_true(n < max);
		out[n++] = e;
	}
	assert_int_equal(len % 512, 0);
	for (size_t i = off; i < len; i++)
		assert_int_equal(b[i], 0);
	return n;
}

static void roundtrip(void **state)
{
	struct bx_cpio c = {0};
	struct bx_err err;
	assert_int_equal(bx_cpio_add(&c, "/init", S_IFREG | 0755, "ABCDE", 5, &err), 0);
	assert_int_equal(bx_cpio_add(&c, "proc", S_IFDIR | 0755, NULL, 0, &err), 0);
	assert_int_equal(bx_cpio_add(&c, "lib/boxvm-modules/10-a.ko", S_IFREG | 0644, "xyz", 3, &err), 0);
	assert_int_equal(bx_cpio_add(&c, "lib/boxvm-modules/11-b.ko", S_IFREG | 0644, "", 0, &err), 0);
	assert_int_equal(bx_cpio_add(&c, "lib", S_IFDIR | 0755, NULL, 0, &err), 0); /* already there: no dup */
	assert_int_equal(bx_cpio_finish(&c, &err), 0);
	struct entry e[16];
	size_t n = parse(c.buf, c.len, e, 16);
	assert_int_equal(n, 6);
	assert_string_equal(e[0].name, "init");
	assert_int_equal(e[0].mode, S_IFREG | 0755);
	assert_int_equal(e[0].size, 5);
	assert_int_equal(e[0].nlink, 1);
	assert_memory_equal(e[0].data, "ABCDE", 5);
	assert_string_equal(e[1].name, "proc");
	assert_int_equal(e[1].mode, S_IFDIR | 0755);
	assert_string_equal(e[2].name, "lib"); /* parents come first, once */
	assert_true(S_ISDIR(e[2].mode));
	assert_string_equal(e[3].name, "lib/boxvm-modules");
	assert_string_equal(e[4].name, "lib/boxvm-modules/10-a.ko");
	assert_memory_equal(e[4].data, "xyz", 3);
	assert_string_equal(e[5].name, "lib/boxvm-modules/11-b.ko");
	assert_int_equal(e[5].size, 0);
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			assert_int_not_equal(e[i].ino, e[j].ino);
	bx_cpio_free(&c);
}

static void empty_and_errors(void **state)
{
	struct bx_cpio c = {0};
	struct bx_err err;
	assert_int_equal(bx_cpio_add(&c, "/", S_IFDIR | 0755, NULL, 0, &err), -1);
	assert_int_equal(bx_cpio_add(&c, "d", S_IFDIR | 0755, "x", 1, &err), -1);
	assert_int_equal(bx_cpio_finish(&c, &err), 0);
	struct entry e[1];
	assert_int_equal(parse(c.buf, c.len, e, 1), 0);
	assert_int_equal(c.len, 512);
	bx_cpio_free(&c);
}

static void large_file(void **state)
{
	size_t len = 300001;
	uint8_t *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7);
	struct bx_cpio c = {0};
	assert_int_equal(bx_cpio_add(&c, "big", S_IFREG | 0600, data, len, NULL), 0);
	assert_int_equal(bx_cpio_finish(&c, NULL), 0);
	struct entry e[2];
	assert_int_equal(parse(c.buf, c.len, e, 2), 1);
	assert_int_equal(e[0].size, len);
	assert_memory_equal(e[0].data, data, len);
	bx_cpio_free(&c);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(roundtrip),
		cmocka_unit_test(empty_and_errors),
		cmocka_unit_test(large_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
