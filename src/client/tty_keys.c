/* Docker's detach keys (default Ctrl-P Ctrl-Q) (tty_keys.h). */
#include "tty_keys.h"

#include <ctype.h>
#include <string.h>

static int parse_key(const char *k, size_t len, uint8_t *out)
{
	if (len == 1) {
		*out = (uint8_t)k[0];
		return 0;
	}
	if (len == 6 && !strncasecmp(k, "ctrl-", 5)) {
		char c = k[5];
		if (isalpha((unsigned char)c)) {
			*out = (uint8_t)(toupper((unsigned char)c) - 'A' + 1);
			return 0;
		}
		const char *sym = "@[\\]^_";
		const char *p = strchr(sym, c);
		if (p && c) {
			*out = (uint8_t)(p - sym == 0 ? 0 : 27 + (p - sym) - 1);
			return 0;
		}
	}
	return -1;
}

int bx_detach_parse(const char *spec, struct bx_detach *d, struct bx_err *err)
{
	memset(d, 0, sizeof(*d));
	if (!*spec)
		return 0;
	const char *p = spec;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (d->n == BX_DETACH_MAX)
			return bx_fail(err, 0, "invalid detach keys '%s': at most %d keys", spec, BX_DETACH_MAX);
		if (parse_key(p, len, &d->keys[d->n]) < 0)
			return bx_fail(err, 0,
				       "invalid detach keys '%s': use comma-separated keys like ctrl-p,ctrl-q "
				       "(a single character or ctrl-<a-z, @, [, \\, ], ^, _>)",
				       spec);
		d->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

size_t bx_detach_scan(struct bx_detach *d, const uint8_t *in, size_t len, uint8_t *out, bool *detached)
{
	size_t o = 0;
	*detached = false;
	if (!d->n) {
		memcpy(out, in, len);
		return len;
	}
	for (size_t i = 0; i < len; i++) {
		if (in[i] == d->keys[d->matched]) {
			if (++d->matched == d->n) {
				d->matched = 0;
				*detached = true;
				return o;
			}
			continue;
		}
		/* broken: what was held is ordinary input; this byte may start a new match */
		memcpy(out + o, d->keys, d->matched);
		o += d->matched;
		d->matched = 0;
		if (in[i] == d->keys[0] && d->n > 1)
			d->matched = 1;
		else if (in[i] == d->keys[0]) {
			*detached = true;
			return o;
		} else
			out[o++] = in[i];
	}
	return o;
}

size_t bx_detach_flush(struct bx_detach *d, uint8_t *out)
{
	size_t n = d->matched;
	memcpy(out, d->keys, n);
	d->matched = 0;
	return n;
}
