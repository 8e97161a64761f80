/* bx_archive_sniff: a build context on stdin is an archive (tar, gzip,
 * bzip2, xz) or a plain Dockerfile, as Docker's CLI decides. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "common/archive_sniff.h"

/* a ustar header block for name with a right checksum */
static void tar_block(unsigned char b[512], const char *name)
{
	memset(b, 0, 512);
	snprintf((char *)b, 100, "%s", name);
	memcpy(b + 100, "0000644", 7);
	memcpy(b + 124, "00000000003", 11);
	memcpy(b + 257, "ustar\0" "00", 8);
	memset(b + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += b[i];
	snprintf((char *)b + 148, 8, "%06o", sum);
}

static void test_archives(void **state)
{
	(void)state;
	assert_true(bx_archive_sniff((const unsigned char *)"\x1f\x8b\x08\0", 4));
	assert_true(bx_archive_sniff((const unsigned char *)"BZh91AY", 7));
	assert_true(bx_archive_sniff((const unsigned char *)"\xfd" "7zXZ\0\0", 7));
	unsigned char b[512];
	tar_block(b, "Dockerfile");
	assert_true(bx_archive_sniff(b, sizeof(b)));
}

static void test_not_archives(void **state)
{
	(void)state;
	unsigned char b[512];
	tar_block(b, "Dockerfile");
	assert_false(bx_archive_sniff(b, 511)); /* short: Docker's tar reader hits EOF */
	b[0] ^= 1;                             /* a wrong checksum */
	assert_false(bx_archive_sniff(b, sizeof(b)));
	memset(b, 0, sizeof(b));               /* a zero block is the end of a tar, not a header */
	assert_false(bx_archive_sniff(b, sizeof(b)));
	memset(b, ' ', sizeof(b));
	memcpy(b, "FROM busybox\nRUN echo 0000\n", 27);
	assert_false(bx_archive_sniff(b, sizeof(b)));
	assert_false(bx_archive_sniff((const unsigned char *)"", 0));
	assert_false(bx_archive_sniff((const unsigned char *)"\x1f\x8b", 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archives),
		cmocka_unit_test(test_not_archives),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
