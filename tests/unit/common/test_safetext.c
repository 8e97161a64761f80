#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/safetext.h"

static const char *safe(const char *in, size_t len)
{
	static char out[BX_SAFE_TEXT_SIZE(256)];
	size_t n = bx_safe_text(out, sizeof(out), in, len);
	assert_int_equal(n, strlen(out));
	return out;
}
#define SAFE(lit) safe(lit, sizeof(lit) - 1)

static void test_plain_text_passes(void **state)
{
	assert_string_equal(SAFE("exec failed: no such file (/bin/x y) \\ 100%"), "exec failed: no such file (/bin/x y) \\ 100%");
	assert_string_equal(SAFE(""), "");
	/* well-formed UTF-8 of printable characters is kept: names, paths */
	assert_string_equal(SAFE("caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa6"),
			    "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x93\xa6");
}

static void test_terminal_controls_are_escaped(void **state)
{
	/* OSC window title, erase display, colour: ESC and BEL never pass */
	assert_string_equal(SAFE("a\x1b]0;pwned\x07\x1b[2Jb"), "a\\x1b]0;pwned\\x07\\x1b[2Jb");
	/* CR, BS, LF, TAB, DEL, NUL would hide or fake text and lines */
	assert_string_equal(SAFE("ok\rFAKE\bX\nY\tZ\x7f"), "ok\\x0dFAKE\\x08X\\x0aY\\x09Z\\x7f");
	assert_string_equal(safe("a\0b", 3), "a\\x00b");
}

static void test_c1_controls_are_escaped(void **state)
{
	/* U+009B is CSI for a terminal that honours C1 in UTF-8; U+0085 NEL */
	assert_string_equal(SAFE("x\xc2\x9b" "31my\xc2\x85z"), "x\\xc2\\x9b31my\\xc2\\x85z");
	/* U+00A0 (just past C1) is printable */
	assert_string_equal(SAFE("\xc2\xa0"), "\xc2\xa0");
}

static void test_bidi_and_line_separators_are_escaped(void **state)
{
	/* RLO would display the rest reversed; U+2028 is a line break */
	assert_string_equal(SAFE("a\xe2\x80\xae" "b\xe2\x80\xa8" "c\xe2\x81\xa6" "d\xe2\x80\x8f"),
			    "a\\xe2\\x80\\xaeb\\xe2\\x80\\xa8c\\xe2\\x81\\xa6d\\xe2\\x80\\x8f");
}

static void test_invalid_utf8_is_escaped_bytewise(void **state)
{
	/* a raw 8-bit CSI, a stray continuation byte, an invalid lead */
	assert_string_equal(SAFE("\x9b" "1m\x80\xff"), "\\x9b1m\\x80\\xff");
	/* overlong "/" and overlong ESC (C0 9B would decode to 0x1b) */
	assert_string_equal(SAFE("\xc0\xaf\xc0\x9b"), "\\xc0\\xaf\\xc0\\x9b");
	assert_string_equal(SAFE("\xe0\x80\xaf"), "\\xe0\\x80\\xaf");
	/* a surrogate, beyond U+10FFFF */
	assert_string_equal(SAFE("\xed\xa0\x80"), "\\xed\\xa0\\x80");
	assert_string_equal(SAFE("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");
	/* a sequence cut short: the lead is escaped, what follows is read afresh */
	assert_string_equal(SAFE("\xe6\x97" "A"), "\\xe6\\x97A");
	assert_string_equal(SAFE("end\xe6"), "end\\xe6");
}

static void test_truncation_never_splits(void **state)
{
	char out[8];
	/* "abcd" fits, the 4-byte escape of ESC would not (7 usable bytes) */
	assert_int_equal(bx_safe_text(out, sizeof(out), "abcd\x1b", 5), 4);
	assert_string_equal(out, "abcd");
	assert_int_equal(bx_safe_text(out, 5, "ab\xe6\x97\xa5", 5), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(bx_safe_text(out, 1, "abc", 3), 0);
	assert_string_equal(out, "");
	/* the documented size always holds the whole text */
	char big[BX_SAFE_TEXT_SIZE(3)];
	assert_int_equal(bx_safe_text(big, sizeof(big), "\x1b\x1b\x1b", 3), 12);
}

static void test_escaping_is_idempotent(void **state)
{
	char once[BX_SAFE_TEXT_SIZE(32)], twice[BX_SAFE_TEXT_SIZE(sizeof(once))];
	static const char in[] = "t\x1b[2J\xc2\x9b\xff\xe2\x80\xae caf\xc3\xa9";
	size_t n = bx_safe_text(once, sizeof(once), in, sizeof(in) - 1);
	bx_safe_text(twice, sizeof(twice), once, n);
	assert_string_equal(once, twice);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_passes),
		cmocka_unit_test(test_terminal_controls_are_escaped),
		cmocka_unit_test(test_c1_controls_are_escaped),
		cmocka_unit_test(test_bidi_and_line_separators_are_escaped),
		cmocka_unit_test(test_invalid_utf8_is_escaped_bytewise),
		cmocka_unit_test(test_truncation_never_splits),
		cmocka_unit_test(test_escaping_is_idempotent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
