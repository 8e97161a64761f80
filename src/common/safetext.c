/* Text from an untrusted peer (a guest's errors, its console) made safe for a terminal or a log line (safetext.h). */
#include "safetext.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* Length of the well-formed UTF-8 sequence at p (1-4), with its code point,
 * or 0 when the bytes there are not one. */
static size_t utf8_seq(const uint8_t *p, size_t avail, uint32_t *cp)
{
	uint8_t b = p[0];
	size_t n;
	uint32_t min;
	if (b < 0x80) {
		*cp = b;
		return 1;
	} else if (b >= 0xc2 && b <= 0xdf) {
		n = 2, min = 0x80, *cp = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 3, min = 0x800, *cp = b & 0x0f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4, min = 0x10000, *cp = b & 0x07;
	} else {
		return 0; /* a continuation byte, an overlong lead (C0, C1) or F5-FF */
	}
	if (avail < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		*cp = *cp << 6 | (p[i] & 0x3f);
	}
	if (*cp < min || *cp > 0x10ffff || (*cp >= 0xd800 && *cp <= 0xdfff))
		return 0;
	return n;
}

static bool printable(uint32_t cp)
{
	if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f))
		return false;
	/* invisible marks that change the order or the lines of what is shown */
	if (cp == 0x061c || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069))
		return false;
	return true;
}

size_t bx_safe_text(char *out, size_t size, const void *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const uint8_t *p = in;
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = utf8_seq(p + i, len - i, &cp);
		if (n && printable(cp)) {
			if (o + n >= size)
				break;
			memcpy(out + o, p + i, n);
			o += n;
			i += n;
			continue;
		}
		/* escape the sequence's bytes (a bad one: its first byte, then resync) */
		size_t bytes = n ? n : 1;
		if (o + 4 * bytes >= size)
			break;
		for (size_t k = 0; k < bytes; k++) {
			uint8_t b = p[i + k];
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[b >> 4];
			out[o++] = hex[b & 15];
		}
		i += bytes;
	}
	out[o] = '\0';
	return o;
}
