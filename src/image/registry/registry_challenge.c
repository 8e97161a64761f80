/* WWW-Authenticate parsing (RFC 7235): `Scheme k="v", k2=token, ...`.
 * Registries send one challenge; we take the first and keep the params a
 * registry client needs. Also the rule for where stored credentials may go.
 * Pure. */
#include "registry.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../ref.h"

/* copy, truncating silently: an over-long param is unusable either way */
static void put(char *dst, size_t size, const char *v)
{
	size_t l = strnlen(v, size - 1);
	memcpy(dst, v, l);
	dst[l] = '\0';
}

static const char *skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

int bx_auth_challenge_parse(const char *h, struct bx_auth_challenge *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!h)
		return bx_fail(err, 0, "the registry answered 401 without a WWW-Authenticate challenge");
	h = skip_ws(h);
	size_t sl = 0;
	while (h[sl] && !isspace((unsigned char)h[sl]) && h[sl] != ',')
		sl++;
	if (sl == 0 || sl >= sizeof(out->scheme))
		return bx_fail(err, 0, "cannot parse the registry's WWW-Authenticate challenge '%.80s'", h);
	memcpy(out->scheme, h, sl);
	const char *s = skip_ws(h + sl);
	while (*s) {
		char key[32], val[1024];
		size_t kl = 0, vl = 0;
		while (*s && *s != '=' && *s != ',' && !isspace((unsigned char)*s)) {
			if (kl + 1 < sizeof(key))
				key[kl++] = *s;
			s++;
		}
		key[kl] = '\0';
		s = skip_ws(s);
		if (*s != '=') {
			/* a bare token (token68) or a stray comma: skip it */
			while (*s && *s != ',')
				s++;
			if (*s == ',')
				s = skip_ws(s + 1);
			continue;
		}
		s = skip_ws(s + 1);
		if (*s == '"') {
			s++;
			while (*s && *s != '"') {
				if (*s == '\\' && s[1])
					s++;
				if (vl + 1 < sizeof(val))
					val[vl++] = *s;
				s++;
			}
			if (*s != '"')
				return bx_fail(err, 0, "cannot parse the registry's WWW-Authenticate challenge (unterminated quote)");
			s++;
		} else {
			while (*s && *s != ',' && !isspace((unsigned char)*s)) {
				if (vl + 1 < sizeof(val))
					val[vl++] = *s;
				s++;
			}
		}
		val[vl] = '\0';
		if (!strcasecmp(key, "realm"))
			put(out->realm, sizeof(out->realm), val);
		else if (!strcasecmp(key, "service"))
			put(out->service, sizeof(out->service), val);
		else if (!strcasecmp(key, "scope"))
			put(out->scope, sizeof(out->scope), val);
		else if (!strcasecmp(key, "error"))
			put(out->error, sizeof(out->error), val);
		s = skip_ws(s);
		if (*s == ',')
			s = skip_ws(s + 1);
	}
	if (!strcasecmp(out->scheme, "Bearer") && !out->realm[0])
		return bx_fail(err, 0, "the registry's Bearer challenge names no realm (token server)");
	return 0;
}

bool bx_registry_insecure_listed(const char *hostport, const char *list)
{
	size_t hl = strlen(hostport);
	for (const char *s = list ? list : ""; *s;) {
		size_t l = strcspn(s, ", ");
		if (l == hl && !strncasecmp(s, hostport, hl))
			return true;
		s += l;
		s += strspn(s, ", ");
	}
	return false;
}

bool bx_realm_may_get_credentials(const char *realm, const char *insecure_list)
{
	if (!strncasecmp(realm, "https://", 8))
		return true;
	if (strncasecmp(realm, "http://", 7) != 0)
		return false;
	/* the authority: up to the path, query or fragment, after any userinfo */
	const char *auth = realm + 7;
	size_t al = strcspn(auth, "/?#");
	char hostport[256];
	if (al == 0 || al >= sizeof(hostport))
		return false;
	memcpy(hostport, auth, al);
	hostport[al] = '\0';
	char *at = strrchr(hostport, '@');
	const char *h = at ? at + 1 : hostport;
	return *h && (bx_ref_host_is_loopback(h) || bx_registry_insecure_listed(h, insecure_list));
}
