/* Telling an archive from other bytes by its head (archive_sniff.h). */
#include "archive_sniff.h"

#include <string.h>

/* Go's archive/tar: the checksum field (8 bytes at 148) is octal with
 * blanks or NULs around it; the sum counts that field as spaces, and either
 * the unsigned or the signed byte sum is accepted */
static bool tar_header(const unsigned char *b)
{
	const unsigned char *f = b + 148, *e = f + 8;
	while (f < e && (*f == ' ' || *f == '\0'))
		f++;
	while (e > f && (e[-1] == ' ' || e[-1] == '\0'))
		e--;
	if (f == e)
		return false;
	long want = 0;
	for (; f < e; f++) {
		if (*f < '0' || *f > '7')
			return false;
		want = want * 8 + (*f - '0');
	}
	long usum = 0, ssum = 0;
	for (size_t i = 0; i < BX_SNIFF_HEAD; i++) {
		unsigned char c = i >= 148 && i < 156 ? ' ' : b[i];
		usum += c;
		ssum += (signed char)c;
	}
	return want == usum || want == ssum;
}

bool bx_archive_sniff(const unsigned char *head, size_t n)
{
	static const struct {
		const char *magic;
		size_t len;
	} compressed[] = {{"\x1f\x8b\x08", 3}, {"BZh", 3}, {"\xfd" "7zXZ\0", 6}};
	for (size_t i = 0; i < sizeof(compressed) / sizeof(compressed[0]); i++)
		if (n >= compressed[i].len && !memcmp(head, compressed[i].magic, compressed[i].len))
			return true;
	return n >= BX_SNIFF_HEAD && tar_header(head);
}
