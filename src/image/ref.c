/* Docker's reference grammar (distribution/reference), reduced to what a
 * client needs: split domain / path / tag / digest and apply the defaults
 * (docker.io, library/, latest). */
#include "ref.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

#define DEFAULT_DOMAIN "docker.io"

static bool tag_ok(const char *t, size_t n)
{
	if (n == 0 || n > 128 || !(isalnum((unsigned char)t[0]) || t[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

/* path components: [a-z0-9]+ separated by '.', '_', '__' or '-'+, joined by '/' */
static bool path_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	size_t start = 0;
	for (size_t i = 0; i <= n; i++) {
		if (i < n && s[i] != '/')
			continue;
		size_t len = i - start;
		const char *c = s + start;
		if (len == 0 || !isalnum((unsigned char)c[0]) || !isalnum((unsigned char)c[len - 1]))
			return false;
		for (size_t k = 0; k < len; k++) {
			unsigned char ch = (unsigned char)c[k];
			if (islower(ch) || isdigit(ch))
				continue;
			if (ch == '.' || ch == '-')
				continue;
			if (ch == '_' && !(k + 2 < len && c[k + 1] == '_' && c[k + 2] == '_'))
				continue;
			return false;
		}
		start = i + 1;
	}
	return true;
}

/* "" or ":PORT" (1 to 5 digits): what may follow a registry host */
static bool port_ok(const char *s, size_t n)
{
	if (n == 0)
		return true;
	if (s[0] != ':' || n < 2 || n > 6)
		return false;
	for (size_t i = 1; i < n; i++)
		if (!isdigit((unsigned char)s[i]))
			return false;
	return true;
}

static bool domain_ok(const char *s, size_t n)
{
	if (n == 0)
		return false;
	if (s[0] == '[') { /* IPv6 literal, optionally with a port; nothing else goes into the URL */
		const char *close = memchr(s, ']', n);
		if (!close || close == s + 1)
			return false;
		for (const char *c = s + 1; c < close; c++)
			if (!isxdigit((unsigned char)*c) && *c != ':' && *c != '.')
				return false;
		return port_ok(close + 1, n - (size_t)(close + 1 - s));
	}
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' || s[i] == ':'))
			return false;
	const char *colon = memchr(s, ':', n);
	return !colon || port_ok(colon, n - (size_t)(colon - s));
}

int bx_ref_parse(const char *s, struct bx_ref *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	if (!s || !*s)
		return bx_fail(err, 0, "invalid reference format: empty image name");
	size_t len = strlen(s);
	const char *at = strchr(s, '@');
	size_t rlen = at ? (size_t)(at - s) : len;
	if (at) {
		if (!bx_digest_valid(at + 1))
			return bx_fail(err, 0, "invalid reference format: %s (the digest must be sha256:<64 hex>)", s);
		snprintf(out->digest, sizeof(out->digest), "%s", at + 1);
	}
	/* a ':' after the last '/' starts the tag; one before it is a registry port */
	const char *slash = memrchr(s, '/', rlen);
	const char *from = slash ? slash : s;
	const char *colon = memchr(from, ':', rlen - (size_t)(from - s));
	size_t nlen = colon ? (size_t)(colon - s) : rlen;
	if (colon) {
		size_t tl = rlen - nlen - 1;
		if (!tag_ok(colon + 1, tl))
			return bx_fail(err, 0, "invalid reference format: %s (bad tag)", s);
		snprintf(out->tag, sizeof(out->tag), "%.*s", (int)tl, colon + 1);
	}
	/* Docker's rule: the first component is a domain when it has a '.' or ':'
	 * or is "localhost"; otherwise the name lives on Docker Hub. */
	const char *first_slash = memchr(s, '/', nlen);
	size_t dlen = 0;
	if (first_slash) {
		size_t fl = (size_t)(first_slash - s);
		if (memchr(s, '.', fl) || memchr(s, ':', fl) || (fl == 9 && !strncmp(s, "localhost", 9)) ||
		    (fl > 0 && s[0] == '['))
			dlen = fl;
		else
			for (size_t i = 0; i < fl; i++)
				if (isupper((unsigned char)s[i]))
					dlen = fl; /* uppercase is only valid in a domain */
	}
	const char *path = dlen ? s + dlen + 1 : s;
	size_t plen = dlen ? nlen - dlen - 1 : nlen;
	if (dlen && !domain_ok(s, dlen))
		return bx_fail(err, 0, "invalid reference format: %s (bad registry host '%.*s')", s, (int)dlen, s);
	if (!path_ok(path, plen)) {
		for (size_t i = 0; i < plen; i++)
			if (isupper((unsigned char)path[i]))
				return bx_fail(err, 0, "invalid reference format: repository name must be lowercase: %s", s);
		return bx_fail(err, 0, "invalid reference format: %s", s);
	}
	int n;
	if (!dlen || (dlen == 15 && !strncmp(s, "index.docker.io", 15)) || (dlen == 9 && !strncmp(s, "docker.io", 9))) {
		snprintf(out->domain, sizeof(out->domain), "%s", DEFAULT_DOMAIN);
		bool single = !memchr(path, '/', plen);
		n = snprintf(out->path, sizeof(out->path), "%s%.*s", single ? "library/" : "", (int)plen, path);
	} else {
		snprintf(out->domain, sizeof(out->domain), "%.*s", (int)dlen, s);
		n = snprintf(out->path, sizeof(out->path), "%.*s", (int)plen, path);
	}
	if (n < 0 || (size_t)n >= sizeof(out->path) || plen + dlen > 255)
		return bx_fail(err, ENAMETOOLONG, "invalid reference format: %s (repository name must not be more than 255 characters)", s);
	if (!out->tag[0] && !out->digest[0])
		strcpy(out->tag, "latest");
	return 0;
}

const char *bx_ref_api_host(const struct bx_ref *r)
{
	return strcmp(r->domain, DEFAULT_DOMAIN) == 0 ? "registry-1.docker.io" : r->domain;
}

int bx_ref_familiar(const struct bx_ref *r, bool with_tag, char *out, size_t size, struct bx_err *err)
{
	const char *path = r->path;
	char dom[260] = "";
	size_t first = strcspn(path, "/");
	if (strcmp(r->domain, DEFAULT_DOMAIN) != 0)
		snprintf(dom, sizeof(dom), "%s/", r->domain);
	else if (memchr(path, '.', first) || (first == 9 && !strncmp(path, "localhost", 9)))
		/* a Hub repository whose first component looks like a host ("docker.io/l.io/x"):
		 * without the prefix the name would read as repository x on host l.io */
		snprintf(dom, sizeof(dom), "%s/", DEFAULT_DOMAIN);
	else if (!strncmp(path, "library/", 8) && !strchr(path + 8, '/'))
		path += 8;
	int n;
	if (with_tag && r->tag[0])
		n = snprintf(out, size, "%s%s:%s", dom, path, r->tag);
	else if (with_tag && r->digest[0])
		n = snprintf(out, size, "%s%s@%s", dom, path, r->digest);
	else
		n = snprintf(out, size, "%s%s", dom, path);
	if (n < 0 || (size_t)n >= size)
		return bx_fail(err, ENAMETOOLONG, "image reference too long");
	return 0;
}

bool bx_ref_host_is_loopback(const char *domain)
{
	char host[256];
	snprintf(host, sizeof(host), "%s", domain);
	if (host[0] == '[') {
		/* "[::1]" or "[::1]:PORT" only: "[::1]x" is not the loopback address */
		char *close = strchr(host, ']');
		if (!close || !port_ok(close + 1, strlen(close + 1)))
			return false;
		*close = '\0';
		return !strcmp(host + 1, "::1");
	}
	char *colon = strchr(host, ':');
	if (colon && !port_ok(colon, strlen(colon)))
		return false;
	if (colon)
		*colon = '\0';
	if (!strcmp(host, "localhost"))
		return true;
	/* 127.a.b.c in plain decimal only: curl reads a leading 0 as octal
	 * ("0127.0.0.1" is 87.0.0.1) and would connect somewhere else */
	const char *p = host;
	for (int i = 0; i < 4; i++) {
		size_t n = strspn(p, "0123456789");
		if (n == 0 || n > 3 || (n > 1 && p[0] == '0'))
			return false;
		unsigned v = (unsigned)strtoul(p, NULL, 10);
		if (v > 255 || (i == 0 && v != 127))
			return false;
		p += n;
		if (i < 3 && *p++ != '.')
			return false;
	}
	return *p == '\0';
}
