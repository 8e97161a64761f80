/* Pure helpers of a push: the token scope a push asks for, and where an
 * upload's Location may lead (only back to the registry the request went to:
 * the credentials go along with the upload). */
#include "registry.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

int bx_registry_scope(const char *path, bool push, char *out, size_t size, struct bx_err *err)
{
	if (!path[0] || strpbrk(path, " :,\"") )
		return bx_fail(err, 0, "invalid repository '%.200s' for a token scope", path);
	int n = snprintf(out, size, "repository:%s:%s", path, push ? "pull,push" : "pull");
	if (n < 0 || (size_t)n >= size)
		return bx_fail(err, 0, "the repository name '%.200s' is too long", path);
	return 0;
}

/* length of "scheme://authority" at the start of url, 0 if it has none */
static size_t origin_len(const char *url)
{
	size_t sl;
	if (!strncasecmp(url, "https://", 8))
		sl = 8;
	else if (!strncasecmp(url, "http://", 7))
		sl = 7;
	else
		return 0;
	size_t al = strcspn(url + sl, "/?#");
	return al ? sl + al : 0;
}

/* "scheme://host[:port]" of a and b name the same server: a default port
 * written out (https://h:443) is the same as none */
static bool same_origin(const char *a, size_t al, const char *b, size_t bl)
{
	size_t as = strstr(a, "://") - a, bs = strstr(b, "://") - b;
	if (as != bs || strncasecmp(a, b, as) != 0)
		return false;
	const char *dflt = as == 5 ? ":443" : ":80";
	size_t dl = strlen(dflt);
	const char *ah = a + as + 3, *bh = b + bs + 3;
	size_t ahl = al - as - 3, bhl = bl - bs - 3;
	if (ahl > dl && !strncmp(ah + ahl - dl, dflt, dl))
		ahl -= dl;
	if (bhl > dl && !strncmp(bh + bhl - dl, dflt, dl))
		bhl -= dl;
	return ahl == bhl && !strncasecmp(ah, bh, ahl);
}

int bx_registry_location(const char *request_url, const char *loc, char *out, size_t size, struct bx_err *err)
{
	for (const char *c = loc; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return bx_fail(err, 0, "the registry's upload Location holds spaces or control characters; refusing it");
	size_t rl = origin_len(request_url);
	if (!rl)
		return bx_fail(err, 0, "internal error: '%.200s' is not an http(s) URL", request_url);
	int n;
	if (loc[0] == '/' && loc[1] != '/') {
		n = snprintf(out, size, "%.*s%s", (int)rl, request_url, loc);
	} else {
		size_t ll = origin_len(loc);
		if (!ll)
			return bx_fail(err, 0, "the registry's upload Location '%.200s' is neither an absolute URL nor a path on the registry; refusing it",
				       loc);
		/* same scheme, same host and port (host names are case-insensitive); no userinfo */
		if (!same_origin(request_url, rl, loc, ll) || memchr(loc, '@', ll))
			return bx_fail(err, 0, "the registry's upload Location '%.200s' leads away from %.*s; refusing to send the image (and credentials) there",
				       loc, (int)rl, request_url);
		n = snprintf(out, size, "%s", loc);
	}
	if (n < 0 || (size_t)n >= size)
		return bx_fail(err, 0, "the registry's upload Location is too long (over %zu bytes); refusing it", size);
	return 0;
}
