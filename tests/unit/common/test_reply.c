/* The "ok" / "error: MESSAGE" reply lines between boxvm's processes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "common/reply.h"

static void check_ok_error_silent(void **state)
{
	struct bx_err err = {0};
	assert_int_equal(bx_reply_check("ok", "died", &err), 0);
	assert_int_equal(bx_reply_check("error: qemu exited at start", "died", &err), -1);
	assert_string_equal(err.msg, "qemu exited at start");
	assert_int_equal(err.exit_code, 125);
	assert_int_equal(bx_reply_check("", "the shim died", &err), -1);
	assert_string_equal(err.msg, "the shim died");
	assert_int_equal(bx_reply_check("okay", "x", &err), -1);
	/* a start that failed for a reason `run` tells by its exit code */
	assert_int_equal(bx_reply_check("error 127: exec: nosuch: not found", "died", &err), -1);
	assert_string_equal(err.msg, "exec: nosuch: not found");
	assert_int_equal(err.exit_code, 127);
	const char *bad[] = {"error 0: x", "error 256: x", "error -1: x", "error 1270: x", "error 12x: x", "error : x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(bx_reply_check(bad[i], "died", &err), -1);
		assert_string_equal(err.msg, "died");
		assert_int_equal(err.exit_code, 125);
	}
}

static void read_stops_at_newline_and_keeps_the_rest(void **state)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "error: boom\nmore", 16), 16);
	close(p[1]);
	char line[64];
	assert_int_equal(bx_reply_read(p[0], line, sizeof(line), -1), 11);
	assert_string_equal(line, "error: boom");
	bx_reply_drain(p[0]); /* returns at EOF */
	close(p[0]);
}

static void read_eof_timeout_and_truncation(void **state)
{
	int p[2];
	char line[8];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(bx_reply_read(p[0], line, sizeof(line), 10), 0); /* nothing within 10 ms */
	assert_int_equal(write(p[1], "0123456789", 10), 10);
	assert_int_equal(bx_reply_read(p[0], line, sizeof(line), -1), 7);
	assert_string_equal(line, "0123456");
	close(p[1]);
	bx_reply_read(p[0], line, sizeof(line), -1);
	assert_int_equal(bx_reply_read(p[0], line, sizeof(line), -1), 0); /* EOF */
	close(p[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(check_ok_error_silent),
		cmocka_unit_test(read_stops_at_newline_and_keeps_the_rest),
		cmocka_unit_test(read_eof_timeout_and_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
