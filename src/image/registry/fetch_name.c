/* The pure part of ADD's remote sources (fetch.h): which sources are URLs
 * and the file name a download gets. */
#include "fetch.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

bool bx_url_is_remote(const char *s)
{
	return !strncmp(s, "http://", 7) || !strncmp(s, "https://", 8);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int bx_url_file_name(const char *url, char *out, size_t size, struct bx_err *err)
{
	out[0] = '\0';
	const char *s = strstr(url, "://");
	if (!s)
		return bx_fail(err, EINVAL, "%s is no URL", url);
	s += 3;
	const char *path = s + strcspn(s, "/?#"); /* past the host */
	size_t plen = *path == '/' ? strcspn(path, "?#") : 0;
	/* decoded, as Go's url.Parse gives Path, then its last component */
	char dec[4096];
	size_t n = 0;
	for (size_t i = 0; i < plen; i++) {
		char c = path[i];
		if (c == '%' && i + 2 < plen && hexval(path[i + 1]) >= 0 && hexval(path[i + 2]) >= 0) {
			c = (char)(hexval(path[i + 1]) * 16 + hexval(path[i + 2]));
			i += 2;
		} else if (c == '%') {
			return bx_fail(err, EINVAL, "invalid URL escape in %s", url);
		}
		if (c == '\0')
			return bx_fail(err, EINVAL, "%s: a NUL in the URL's path", url);
		if (n + 1 >= sizeof(dec))
			return bx_fail(err, ENAMETOOLONG, "the path of %.64s... is too long", url);
		dec[n++] = c;
	}
	dec[n] = '\0';
	if (!n || dec[n - 1] == '/')
		return 0;
	const char *base = strrchr(dec, '/');
	base = base ? base + 1 : dec;
	if (!strcmp(base, ".") || !strcmp(base, ".."))
		return 0; /* no file name (Go's Base would give a directory) */
	if (strlen(base) >= size)
		return bx_fail(err, ENAMETOOLONG, "the file name in %.64s... is too long", url);
	snprintf(out, size, "%s", base);
	return 0;
}
