/* Image reference and digest syntax: pure string handling, no I/O. */
#include "image.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool bx_digest_valid(const char *d)
{
	if (!d || strncmp(d, "sha256:", 7) != 0)
		return false;
	d += 7;
	size_t i = 0;
	for (; d[i]; i++)
		if (!(isdigit((unsigned char)d[i]) || (d[i] >= 'a' && d[i] <= 'f')))
			return false;
	return i == 64;
}

/* Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127} */
static bool tag_valid(const char *t, size_t n)
{
	if (n == 0 || n > 128 || t[0] == '.' || t[0] == '-')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
			return false;
	return true;
}

/* The first component is a registry host when it looks like one (Docker's rule). */
static size_t domain_len(const char *name, size_t n)
{
	const char *slash = memchr(name, '/', n);
	if (!slash)
		return 0;
	size_t d = (size_t)(slash - name);
	if (memchr(name, '.', d) || memchr(name, ':', d) || (d == 9 && !strncmp(name, "localhost", 9)))
		return d;
	return 0;
}

static bool name_valid(const char *name, size_t n)
{
	if (n == 0 || n > 255 || name[0] == '/' || name[n - 1] == '/')
		return false;
	size_t d = domain_len(name, n);
	for (size_t i = 0; i < d; i++)
		if (!(isalnum((unsigned char)name[i]) || name[i] == '.' || name[i] == '-' || name[i] == ':'))
			return false;
	for (size_t i = d; i < n; i++) {
		char c = name[i];
		if (c == '/' && i + 1 < n && name[i + 1] == '/')
			return false;
		if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '_' || c == '-' ||
		      c == '/'))
			return false;
	}
	return true;
}

int bx_image_ref_normalize(const char *ref, char *out, size_t size, struct bx_err *err)
{
	if (!ref || !*ref)
		return bx_fail(err, 0, "invalid reference format: empty image name");
	const char *at = strchr(ref, '@');
	size_t rlen = at ? (size_t)(at - ref) : strlen(ref);
	if (at && !bx_digest_valid(at + 1))
		return bx_fail(err, 0, "invalid reference format: %s (bad digest)", ref);

	/* tag: a ':' after the last '/' (a ':' before it is a registry port) */
	const char *slash = memrchr(ref, '/', rlen);
	const char *colon = memrchr(slash ? slash : ref, ':', rlen - (size_t)((slash ? slash : ref) - ref));
	size_t nlen = colon ? (size_t)(colon - ref) : rlen;
	const char *tag = colon ? colon + 1 : NULL;
	size_t tlen = colon ? rlen - nlen - 1 : 0;
	if (tag && !tag_valid(tag, tlen))
		return bx_fail(err, 0, "invalid reference format: %s (bad tag)", ref);

	/* Docker Hub spellings collapse to the short form users type. */
	const char *name = ref;
	static const char *const hub[] = {"docker.io/library/", "index.docker.io/library/", "docker.io/",
					  "index.docker.io/"};
	for (size_t i = 0; i < sizeof(hub) / sizeof(hub[0]); i++) {
		size_t hl = strlen(hub[i]);
		if (nlen > hl && !strncmp(name, hub[i], hl)) {
			name += hl;
			nlen -= hl;
			break;
		}
	}
	if (!name_valid(name, nlen)) {
		for (size_t i = 0; i < nlen; i++)
			if (isupper((unsigned char)name[i]) && i >= domain_len(name, nlen))
				return bx_fail(err, 0, "invalid reference format: repository name must be lowercase: %s",
					       ref);
		return bx_fail(err, 0, "invalid reference format: %s", ref);
	}
	int n;
	if (at)
		n = snprintf(out, size, "%.*s@%s", (int)nlen, name, at + 1);
	else
		n = snprintf(out, size, "%.*s:%.*s", (int)nlen, name, (int)(tag ? tlen : 6), tag ? tag : "latest");
	if (n < 0 || (size_t)n >= size)
		return bx_fail(err, ENAMETOOLONG, "image reference too long: %s", ref);
	return 0;
}

void bx_strv_free(char **v)
{
	if (!v)
		return;
	for (char **s = v; *s; s++)
		free(*s);
	free(v);
}

int bx_strv_append(char ***v, const char *s, struct bx_err *err)
{
	size_t n = 0;
	while (*v && (*v)[n])
		n++;
	return bx_strv_push(v, &n, s, err);
}

/* Append a copy of s, keeping the vector NULL-terminated; *v starts NULL with *n 0. */
int bx_strv_push(char ***v, size_t *n, const char *s, struct bx_err *err)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return bx_fail(err, ENOMEM, "out of memory");
	*v = nv;
	if (!(nv[*n] = strdup(s)))
		return bx_fail(err, ENOMEM, "out of memory");
	nv[++*n] = NULL;
	return 0;
}
