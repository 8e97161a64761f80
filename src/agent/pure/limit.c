/* BX_M_LIMIT requests (limit.h). */
#include "limit.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

int bx_limit_parse(const char *text, size_t len, struct bx_limit *out, struct bx_err *err)
{
	static const char *const files[] = {"pids.max", "memory.max", "memory.low", "cpu.weight", "cpuset.cpus", NULL};
	const char *eq = memchr(text, '=', len);
	if (!eq || memchr(text, '\0', len))
		return bx_fail(err, 0, "a limit is FILE=VALUE");
	size_t flen = (size_t)(eq - text), vlen = len - flen - 1;
	int which = -1;
	for (int i = 0; files[i]; i++)
		if (strlen(files[i]) == flen && !memcmp(text, files[i], flen))
			which = i;
	if (which < 0)
		return bx_fail(err, 0, "no such limit: %.*s", (int)(flen < 32 ? flen : 32), text);
	if (vlen == 0 || vlen >= sizeof(out->value))
		return bx_fail(err, 0, "bad value for %s", files[which]);
	memcpy(out->file, files[which], strlen(files[which]) + 1);
	memcpy(out->value, eq + 1, vlen);
	out->value[vlen] = '\0';
	const char *v = out->value;
	bool ok;
	if (which <= 2) /* pids.max, memory.max, memory.low */
		ok = !strcmp(v, "max") || (all_of(v, "0123456789") && vlen <= 19);
	else if (which == 3)
		ok = all_of(v, "0123456789") && vlen <= 5 && atoi(v) >= 1 && atoi(v) <= 10000;
	else
		ok = all_of(v, "0123456789,-");
	if (!ok)
		return bx_fail(err, 0, "bad value for %s: %s", files[which], v);
	return 0;
}
