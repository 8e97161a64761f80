/* Base64 of the API's headers (src/api/base64.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/base64.h"

static void round_trips(void **state)
{
	const char *in[] = {"", "a", "ab", "abc", "abcd", "{\"username\":\"alice\"}"};
	const char *enc[] = {"", "YQ==", "YWI=", "YWJj", "YWJjZA==", "eyJ1c2VybmFtZSI6ImFsaWNlIn0="};
	char buf[128], dec[128];
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		assert_int_equal(api_base64_encode(in[i], strlen(in[i]), buf, sizeof(buf)), (long)strlen(enc[i]));
		assert_string_equal(buf, enc[i]);
		assert_int_equal(api_base64_decode(buf, strlen(buf), dec, sizeof(dec)), (long)strlen(in[i]));
		assert_string_equal(dec, in[i]);
	}
}

static void url_alphabet_and_no_padding(void **state)
{
	char dec[16];
	/* 0xfb 0xff: "+/8=" standard, "-_8" URL without padding */
	assert_int_equal(api_base64_decode("-_8", 3, dec, sizeof(dec)), 2);
	assert_memory_equal(dec, "\xfb\xff", 2);
	assert_int_equal(api_base64_decode("+/8=", 4, dec, sizeof(dec)), 2);
	assert_memory_equal(dec, "\xfb\xff", 2);
}

static void refuses_bad_input(void **state)
{
	char dec[8];
	assert_int_equal(api_base64_decode("YQ=", 3, dec, sizeof(dec)), -1);   /* padding without a whole quad */
	assert_int_equal(api_base64_decode("Y", 1, dec, sizeof(dec)), -1);     /* a lone sextet */
	assert_int_equal(api_base64_decode("YW*j", 4, dec, sizeof(dec)), -1);  /* outside the alphabets */
	assert_int_equal(api_base64_decode("YWJjZGVmZ2hp", 12, dec, sizeof(dec)), -1); /* 9 bytes into 8 */
	char enc[4];
	assert_int_equal(api_base64_encode("abc", 3, enc, sizeof(enc)), -1);   /* no room for the NUL */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(round_trips),
		cmocka_unit_test(url_alphabet_and_no_padding),
		cmocka_unit_test(refuses_bad_input),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
