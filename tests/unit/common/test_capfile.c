/* The capped log file (src/common/capfile.h): what a guest floods its console
 * with never takes the file past its ceiling, the newest bytes are kept in
 * order, and a tail read returns only the end. */
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

#include "common/capfile.h"

static char dir[] = "/tmp/test_capfile.XXXXXX";
static char path[128];

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/console.log", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	rmdir(dir);
	return 0;
}

static char *slurp(size_t *len)
{
	char *text = NULL;
	assert_int_equal(bx_read_tail(path, 1 << 30, &text, len, NULL), 0);
	return text;
}

static void below_the_cap_everything_stays(void **state)
{
	struct bx_capfile f;
	struct bx_err err;
	assert_int_equal(bx_capfile_open(&f, path, 100, &err), 0);
	assert_int_equal(bx_capfile_write(&f, "hello ", 6, &err), 0);
	assert_int_equal(bx_capfile_write(&f, "world", 5, &err), 0);
	bx_capfile_close(&f);
	size_t len;
	char *text = slurp(&len);
	assert_string_equal(text, "hello world");
	free(text);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600); /* guest output: the owner's alone */
}

/* a numbered stream written in pieces of every size: the file never exceeds
 * the cap and always ends with the newest bytes, in order */
static void a_flood_keeps_the_newest_bytes_under_the_cap(void **state)
{
	struct bx_capfile f;
	struct bx_err err;
	const off_t cap = 1000;
	assert_int_equal(bx_capfile_open(&f, path, cap, &err), 0);
	static char stream[200000];
	for (size_t i = 0; i < sizeof(stream); i++)
		stream[i] = (char)('a' + (i * 7 + i / 26) % 26);
	size_t sent = 0;
	for (size_t piece = 1; sent < sizeof(stream); piece = piece * 3 % 2011 + 1) {
		size_t n = piece < sizeof(stream) - sent ? piece : sizeof(stream) - sent;
		assert_int_equal(bx_capfile_write(&f, stream + sent, n, &err), 0);
		sent += n;
		struct stat st;
		assert_int_equal(fstat(f.fd, &st), 0);
		assert_true(st.st_size <= cap);
		assert_int_equal(st.st_size, f.size);
		size_t len;
		char *text = slurp(&len);
		assert_true(len >= (size_t)(sent < (size_t)cap / 2 ? sent : (size_t)cap / 2));
		assert_memory_equal(text, stream + sent - len, len); /* the end of what was sent */
		free(text);
	}
	bx_capfile_close(&f);
}

static void a_tail_read_returns_only_the_end(void **state)
{
	struct bx_capfile f;
	assert_int_equal(bx_capfile_open(&f, path, 1 << 20, NULL), 0);
	assert_int_equal(bx_capfile_write(&f, "0123456789", 10, NULL), 0);
	bx_capfile_close(&f);
	char *text = NULL;
	size_t len = 0;
	assert_int_equal(bx_read_tail(path, 4, &text, &len, NULL), 0);
	assert_int_equal(len, 4);
	assert_string_equal(text, "6789");
	free(text);
	assert_int_equal(bx_read_tail("/nonexistent/x", 4, &text, &len, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(below_the_cap_everything_stays),
		cmocka_unit_test(a_flood_keeps_the_newest_bytes_under_the_cap),
		cmocka_unit_test(a_tail_read_returns_only_the_end),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
