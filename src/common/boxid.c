/* Box identity (boxid.h). */
#include "boxid.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

int bx_boxid_new(char out[BX_ID_LEN + 1], struct bx_err *err)
{
	unsigned char raw[BX_ID_LEN / 2];
	size_t got = 0;
	while (got < sizeof(raw)) {
		ssize_t n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return bx_fail(err, errno, "cannot get random bytes for a box ID");
		}
		got += (size_t)n;
	}
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < sizeof(raw); i++) {
		out[2 * i] = hex[raw[i] >> 4];
		out[2 * i + 1] = hex[raw[i] & 15];
	}
	out[BX_ID_LEN] = '\0';
	return 0;
}

bool bx_boxid_valid(const char *s)
{
	if (strlen(s) != BX_ID_LEN)
		return false;
	for (; *s; s++)
		if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
			return false;
	return true;
}
