/* Docker's progress text (cli/progress.h): counts and the 50-column bar as
 * `docker push` draws them on a terminal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "cli/progress.h"

static void test_sizes(void **state)
{
	char b[32];
	cli_progress_size(512, b, sizeof(b));
	assert_string_equal(b, "512B");
	cli_progress_size(1500, b, sizeof(b));
	assert_string_equal(b, "1.5kB");
	cli_progress_size(2300000, b, sizeof(b));
	assert_string_equal(b, "2.3MB");
	cli_progress_size(1200000000, b, sizeof(b));
	assert_string_equal(b, "1.20GB");
	cli_progress_size(-1, b, sizeof(b));
	assert_string_equal(b, "?");
}

static void test_bar(void **state)
{
	char b[128];
	cli_progress_bar(0, 1000, b, sizeof(b));
	assert_string_equal(b, "[>                                                  ]       0B/1.0kB");
	cli_progress_bar(500, 1000, b, sizeof(b));
	assert_string_equal(b, "[=========================>                         ]     500B/1.0kB");
	cli_progress_bar(1000, 1000, b, sizeof(b));
	assert_string_equal(b, "[==================================================>]    1.0kB/1.0kB");
	/* more than announced stays a full bar */
	cli_progress_bar(2000, 1000, b, sizeof(b));
	assert_string_equal(b, "[==================================================>]    2.0kB/1.0kB");
	/* no total: the count alone */
	cli_progress_bar(1500, 0, b, sizeof(b));
	assert_string_equal(b, "   1.5kB");
	/* a small buffer is cut, not overrun */
	char small[8];
	cli_progress_bar(500, 1000, small, sizeof(small));
	assert_int_equal(strlen(small), 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_bar),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
