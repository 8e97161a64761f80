/* Escaped option strings for helper programs (see helperopt.h). */
#include "helperopt.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

int bx_fuse_opt(char *out, size_t size, const char *key, const char *value, struct bx_err *err)
{
	size_t n = 0, klen = strlen(key);
	if (klen + 2 > size)
		return bx_fail(err, ENAMETOOLONG, "option %s is too long", key);
	memcpy(out, key, klen);
	n = klen;
	out[n++] = '=';
	for (const char *v = value; *v; v++) {
		bool escape = *v == ',' || *v == '\\';
		if (n + (escape ? 2 : 1) + 1 > size)
			return bx_fail(err, ENAMETOOLONG, "option %s is too long: %s", key, value);
		if (escape)
			out[n++] = '\\';
		out[n++] = *v;
	}
	out[n] = '\0';
	return 0;
}
