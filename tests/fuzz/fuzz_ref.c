/* Image references (pull, run, tag, load names) and what a registry sends
 * back in a WWW-Authenticate header, plus --platform. */
#include "fuzz.h"
#include "image/image.h"
#include "image/ref.h"
#include "image/registry/registry.h"

#include <stdbool.h>

/* ":PORT" (1-5 digits) or nothing */
static bool port_suffix(const char *p)
{
	if (!*p)
		return true;
	if (*p++ != ':')
		return false;
	size_t n = strspn(p, "0123456789");
	return n >= 1 && n <= 5 && !p[n];
}

/* What bx_ref_host_is_loopback may call loopback: localhost, 127.a.b.c or [::1], with an optional port.
 * Plain HTTP (and, with it, credentials in the clear) is allowed for these only. */
static bool really_loopback(const char *d)
{
	if (!strncmp(d, "localhost", 9))
		return port_suffix(d + 9);
	if (!strncmp(d, "[::1]", 5))
		return port_suffix(d + 5);
	if (strncmp(d, "127.", 4))
		return false;
	const char *p = d + 4;
	for (int i = 0; i < 3; i++) { /* decimal octets without leading zeros: curl reads 010 as octal */
		size_t n = strspn(p, "0123456789");
		if (n == 0 || n > 3 || (n > 1 && p[0] == '0') || atoi(p) > 255)
			return false;
		p += n;
		if (i < 2 && *p++ != '.')
			return false;
	}
	return port_suffix(p);
}

/* A registry host is a name or an IPv4 address, or a bracketed IPv6 address, with an optional port:
 * nothing that could change the URL it is put into. */
static bool host_chars_ok(const char *d)
{
	if (d[0] == '[') {
		const char *close = strchr(d, ']');
		return close && strspn(d + 1, "0123456789abcdefABCDEF:.") == (size_t)(close - d - 1) &&
		       port_suffix(close + 1);
	}
	return strspn(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:") == strlen(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fz_cstr(data, size);
	struct bx_ref r;
	struct bx_err err = {0};
	if (bx_ref_parse(text, &r, &err) == 0) {
		FZ_CHECK(r.domain[0] && r.path[0] && (r.tag[0] || r.digest[0]));
		FZ_CHECK(!r.digest[0] || bx_digest_valid(r.digest));
		(void)bx_ref_api_host(&r);
		FZ_CHECK(host_chars_ok(r.domain));
		FZ_CHECK(!bx_ref_host_is_loopback(r.domain) || really_loopback(r.domain));
		char fam[600];
		struct bx_err ferr = {0};
		FZ_CHECK(bx_ref_familiar(&r, false, fam, sizeof(fam), &ferr) == 0);
		/* the familiar name parses back to the same reference (a tag wins over a digest there) */
		struct bx_ref again;
		FZ_CHECK(bx_ref_familiar(&r, true, fam, sizeof(fam), &ferr) == 0);
		FZ_CHECK(bx_ref_parse(fam, &again, &ferr) == 0);
		FZ_CHECK(!strcmp(r.domain, again.domain) && !strcmp(r.path, again.path) &&
			 !strcmp(r.tag, again.tag) && !strcmp(r.tag[0] ? "" : r.digest, again.digest));
	} else {
		FZ_CHECK_ERR(err);
	}
	char norm[512];
	struct bx_err nerr = {0};
	if (bx_image_ref_normalize(text, norm, sizeof(norm), &nerr) < 0)
		FZ_CHECK_ERR(nerr);

	struct bx_auth_challenge ch;
	struct bx_err cerr = {0};
	if (bx_auth_challenge_parse(text, &ch, &cerr) == 0) {
		FZ_CHECK(memchr(ch.scheme, '\0', sizeof(ch.scheme)) && memchr(ch.realm, '\0', sizeof(ch.realm)) &&
			 memchr(ch.service, '\0', sizeof(ch.service)) && memchr(ch.scope, '\0', sizeof(ch.scope)) &&
			 memchr(ch.error, '\0', sizeof(ch.error)));
	} else {
		FZ_CHECK_ERR(cerr);
	}
	struct bx_platform p;
	struct bx_err perr = {0};
	if (bx_platform_parse(text, &p, &perr) < 0)
		FZ_CHECK_ERR(perr);
	free(text);
	return 0;
}
