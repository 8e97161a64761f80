/* Malformed UTF-8 replaced by U+FFFD (utf8fix.h). */
#include "utf8fix.h"

#include <string.h>

/* The length of the well-formed sequence at in (1-4), 0 if malformed, or
 * -1 if it may be well-formed but the bytes end first. */
static int seq_len(const unsigned char *in, size_t avail)
{
	unsigned char c = in[0];
	if (c < 0x80)
		return 1;
	int n;
	unsigned char lo = 0x80, hi = 0xBF; /* the second byte's range (no overlong, surrogate, > U+10FFFF) */
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;
		else if (c == 0xED)
			hi = 0x9F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		else if (c == 0xF4)
			hi = 0x8F;
	} else
		return 0;
	for (int i = 1; i < n; i++) {
		if ((size_t)i >= avail)
			return -1;
		unsigned char b = in[i];
		if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
			return 0;
	}
	return n;
}

size_t bx_utf8_fix(const unsigned char *in, size_t len, bool at_end, char *out, size_t *used)
{
	size_t i = 0, o = 0;
	while (i < len) {
		int n = seq_len(in + i, len - i);
		if (n < 0 && !at_end)
			break; /* the rest comes with the next read */
		if (n <= 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
			continue;
		}
		memcpy(out + o, in + i, (size_t)n);
		o += (size_t)n;
		i += (size_t)n;
	}
	*used = i;
	return o;
}
