/* The Engine API's paths and stream frames (route.h). */
#include "route.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_bad(struct bx_err *err, const char *fmt, ...)
{
	if (!err)
		return -1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	err->errnum = EINVAL;
	err->exit_code = BX_EXIT_ERROR;
	return -1;
}

/* "1.41" -> 1041; -1 if not MAJOR.MINOR */
static long version_num(const char *s, size_t len)
{
	char buf[16];
	if (len == 0 || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = 0;
	char *end;
	long major = strtol(buf, &end, 10);
	if (end == buf || *end != '.' || major < 0 || major > 99)
		return -1;
	char *m = end + 1;
	long minor = strtol(m, &end, 10);
	if (end == m || *end || minor < 0 || minor > 999)
		return -1;
	return major * 1000 + minor;
}

int api_route_split(const char *url, const char **path, struct bx_err *err)
{
	*path = url;
	if (strncmp(url, "/v", 2) != 0 || !(url[2] >= '0' && url[2] <= '9'))
		return 0;
	const char *end = strchr(url + 2, '/');
	size_t len = end ? (size_t)(end - (url + 2)) : strlen(url + 2);
	long v = version_num(url + 2, len);
	if (v < 0)
		return api_bad(err, "invalid API version in the path: %.*s", (int)(len < 32 ? len : 32), url + 2);
	if (v > version_num(API_VERSION, strlen(API_VERSION)))
		return api_bad(err, "client version %.*s is too new. Maximum supported API version is %s", (int)len,
			       url + 2, API_VERSION);
	if (v < version_num(API_MIN_VERSION, strlen(API_MIN_VERSION)))
		return api_bad(err, "client version %.*s is too old. Minimum supported API version is %s, please "
					    "upgrade your client to a newer version", (int)len, url + 2, API_MIN_VERSION);
	*path = end ? end : "/";
	return 0;
}

bool api_route_match(const char *path, const char *prefix, char *id, size_t id_size, const char **action)
{
	size_t pl = strlen(prefix);
	if (strncmp(path, prefix, pl) != 0)
		return false;
	const char *s = path + pl, *slash = strchr(s, '/');
	size_t n = slash ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= id_size)
		return false;
	memcpy(id, s, n);
	id[n] = 0;
	*action = slash ? slash + 1 : "";
	return !strchr(*action, '/');
}

void api_frame_header(unsigned char hdr[8], int stream, size_t len)
{
	memset(hdr, 0, 8);
	hdr[0] = (unsigned char)stream;
	hdr[4] = (unsigned char)(len >> 24);
	hdr[5] = (unsigned char)(len >> 16);
	hdr[6] = (unsigned char)(len >> 8);
	hdr[7] = (unsigned char)len;
}
