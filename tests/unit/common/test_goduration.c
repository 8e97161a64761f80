/* Go's time.ParseDuration and Duration.String, as Docker's flags and
 * messages use them (values checked against Go's own results). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common/err.h"
#include "common/goduration.h"

static void parses_go_durations(void **state)
{
	static const struct {
		const char *s;
		long long ns;
	} ok[] = {
		{"0", 0}, {"-0", 0}, {"+0", 0}, {"5s", 5000000000LL}, {"30s", 30000000000LL}, {"1478s", 1478000000000LL},
		{"-5s", -5000000000LL}, {"+5s", 5000000000LL}, {"-0s", 0}, {"5.0s", 5000000000LL}, {"5.6s", 5600000000LL},
		{"5.s", 5000000000LL}, {".5s", 500000000LL}, {"1.004s", 1004000000LL}, {"100.00100s", 100001000000LL},
		{"10ns", 10}, {"11us", 11000}, {"12\xc2\xb5s", 12000}, {"12\xce\xbcs", 12000}, {"13ms", 13000000},
		{"14s", 14000000000LL}, {"15m", 900000000000LL}, {"16h", 57600000000000LL}, {"3h30m", 12600000000000LL},
		{"10.5s4m", 250500000000LL}, {"-2m3.4s", -123400000000LL}, {"1h2m3s4ms5us6ns", 3723004005006LL},
		{"39h9m14.425s", 39LL * 3600000000000LL + 9LL * 60000000000LL + 14425000000LL},
		{"1500ms", 1500000000LL}, {"0.3333333333333333333h", 1200000000000LL},
		{"9223372036854775807ns", INT64_MAX}, {"-9223372036854775808ns", INT64_MIN},
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		long long ns = 42;
		assert_int_equal(bx_goduration_parse(ok[i].s, &ns, NULL), 0);
		assert_true(ns == ok[i].ns);
	}
	long long ns;
	static const char *const bad[] = {"", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "5x", "1.5", "5s ", " 5s",
					  "9223372036854775808ns", "-9223372036854775809ns", "abc", "1e3s"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bx_goduration_parse(bad[i], &ns, NULL), -1);
	/* Go's messages */
	struct bx_err err;
	assert_int_equal(bx_goduration_parse("abc", &ns, &err), -1);
	assert_string_equal(err.msg, "time: invalid duration \"abc\"");
	assert_int_equal(bx_goduration_parse("5", &ns, &err), -1);
	assert_string_equal(err.msg, "time: missing unit in duration \"5\"");
	assert_int_equal(bx_goduration_parse("1h5x", &ns, &err), -1);
	assert_string_equal(err.msg, "time: unknown unit \"x\" in duration \"1h5x\"");
}

static void prints_like_go(void **state)
{
	static const struct {
		long long ns;
		const char *s;
	} cases[] = {
		{0, "0s"}, {1, "1ns"}, {1100, "1.1\xc2\xb5s"}, {2200000, "2.2ms"}, {3300000000LL, "3.3s"},
		{1500000000LL, "1.5s"}, {30000000000LL, "30s"}, {60000000000LL, "1m0s"}, {4LL * 60000000000LL + 5000000001LL, "4m5.000000001s"},
		{5LL * 3600000000000LL + 6LL * 60000000000LL + 7001000000LL, "5h6m7.001s"}, {8LL * 3600000000000LL + 1, "8h0m0.000000001s"},
		{INT64_MAX, "2562047h47m16.854775807s"}, {INT64_MIN, "-2562047h47m16.854775808s"}, {-1500000000LL, "-1.5s"},
		{1000000, "1ms"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[64];
		bx_goduration_format(cases[i].ns, out, sizeof(out));
		assert_string_equal(out, cases[i].s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_go_durations),
		cmocka_unit_test(prints_like_go),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
