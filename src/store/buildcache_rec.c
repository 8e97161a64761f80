/* The build cache's pure parts (buildcache.h): an entry file's text, and
 * which images stay whatever the cache does. */
#include "buildcache.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bx_buildcache_parse(const char *text, size_t len, struct bx_buildcache_rec *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	out->uses = 1;
	size_t l = 0;
	while (l < len && text[l] != '\n')
		l++;
	if (l != BX_DIGEST_SIZE - 1)
		return bx_fail(err, EINVAL, "build cache entry: no image ID on its first line");
	memcpy(out->image, text, l);
	out->image[l] = '\0';
	if (!bx_digest_valid(out->image))
		return bx_fail(err, EINVAL, "build cache entry: no image ID on its first line");
	if (l + 1 >= len)
		return 0; /* an entry of an older boxvm: the image alone */
	char line[96];
	size_t rest = len - l - 1;
	snprintf(line, sizeof(line), "%.*s", (int)(rest < sizeof(line) - 1 ? rest : sizeof(line) - 1), text + l + 1);
	unsigned long uses;
	long long created, last;
	if (sscanf(line, "%lu %lld %lld", &uses, &created, &last) == 3 && uses > 0 && created >= 0 && last >= 0) {
		out->uses = uses;
		out->created_ns = created;
		out->last_used_ns = last;
	}
	return 0; /* a second line we cannot read only loses the figures */
}

int bx_buildcache_format(const struct bx_buildcache_rec *r, char *out, size_t size)
{
	int n = snprintf(out, size, "%s\n%lu %lld %lld\n", r->image, r->uses, r->created_ns, r->last_used_ns);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

void bx_buildcache_kept(const struct bx_bc_image *v, size_t n, bool *kept)
{
	for (size_t i = 0; i < n; i++)
		kept[i] = false;
	for (size_t i = 0; i < n; i++) {
		if (!(v[i].named || v[i].boxes > 0 || !v[i].cached))
			continue;
		/* it and its ancestors; a parent loop (a hostile store) ends after n steps */
		long k = (long)i;
		for (size_t steps = 0; k >= 0 && (size_t)k < n && steps <= n; steps++) {
			if (kept[k] && k != (long)i)
				break; /* the rest of the chain is kept already */
			kept[k] = true;
			k = v[k].parent;
		}
	}
}
