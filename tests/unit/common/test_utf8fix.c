/* A build's output made well-formed UTF-8 for the Engine API's JSON stream (utf8fix.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "common/utf8fix.h"

static void fix(const char *in, size_t len, bool at_end, const char *want, size_t want_used)
{
	char out[64];
	size_t used;
	size_t n = bx_utf8_fix((const unsigned char *)in, len, at_end, out, &used);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(out, want, n);
	assert_int_equal(used, want_used);
}

static void test_passes_and_replaces(void **state)
{
	(void)state;
	fix("plain\r\n", 7, false, "plain\r\n", 7);
	fix("\xC3\xA9t\xC3\xA9", 5, false, "\xC3\xA9t\xC3\xA9", 5);             /* été */
	fix("\xF0\x9F\x90\xB3", 4, false, "\xF0\x9F\x90\xB3", 4);               /* U+1F433 */
	fix("a\xFF" "b", 3, false, "a\xEF\xBF\xBD" "b", 3);                      /* not a lead byte */
	fix("\xC0\xAF", 2, false, "\xEF\xBF\xBD\xEF\xBF\xBD", 2);              /* overlong '/' */
	fix("\xED\xA0\x80", 3, false, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 3); /* a surrogate */
	fix("\xF4\x90\x80\x80", 4, true, "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD", 4); /* > U+10FFFF */
	fix("\x80", 1, false, "\xEF\xBF\xBD", 1);                               /* a stray continuation */
}

static void test_cut_sequences(void **state)
{
	(void)state;
	fix("ab\xE2\x82", 4, false, "ab", 2);          /* the euro sign's first two bytes: kept for later */
	fix("ab\xE2\x82", 4, true, "ab\xEF\xBF\xBD\xEF\xBF\xBD", 4); /* the stream ended there */
	fix("\xE2\x28", 2, false, "\xEF\xBF\xBD(", 2);  /* not a continuation: no waiting */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passes_and_replaces),
		cmocka_unit_test(test_cut_sequences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
