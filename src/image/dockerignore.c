/* .dockerignore patterns and the glob matcher they share with COPY (dockerignore.h). */
#include "dockerignore.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* one component's worth: '*' and '?' never cross '/' */
static bool match_here(const char *p, const char *s)
{
	for (;;) {
		if (p[0] == '*' && p[1] == '*' && (p[2] == '/' || !p[2]) ) {
			/* "**" is any number of whole components (also none) */
			const char *rest = p[2] ? p + 3 : p + 2;
			if (!*rest)
				return true;
			for (const char *t = s;; t++) {
				if ((t == s || t[-1] == '/') && match_here(rest, t))
					return true;
				if (!*t)
					return false;
			}
		}
		switch (*p) {
		case '\0':
			return !*s;
		case '*':
			for (const char *t = s;; t++) {
				if (match_here(p + 1, t))
					return true;
				if (!*t || *t == '/')
					return false;
			}
		case '?':
			if (!*s || *s == '/')
				return false;
			p++, s++;
			break;
		case '[': {
			if (!*s || *s == '/')
				return false;
			const char *q = p + 1;
			bool neg = *q == '^' || *q == '!';
			if (neg)
				q++;
			bool hit = false;
			do {
				char lo = *q == '\\' && q[1] ? *++q : *q;
				if (!lo)
					return false; /* unterminated: matches nothing, as Go's ErrBadPattern */
				char hi = lo;
				if (q[1] == '-' && q[2] && q[2] != ']') {
					hi = q[2] == '\\' && q[3] ? q[3] : q[2];
					q += q[2] == '\\' ? 3 : 2;
				}
				if (*s >= lo && *s <= hi)
					hit = true;
				q++;
			} while (*q != ']');
			if (hit == neg)
				return false;
			p = q + 1, s++;
			break;
		}
		case '\\':
			if (p[1])
				p++;
			/* fallthrough */
		default:
			if (*p != *s)
				return false;
			p++, s++;
		}
	}
}

bool bx_glob_match(const char *pattern, const char *path)
{
	return match_here(pattern, path);
}

void bx_ignore_free(struct bx_ignore *ig)
{
	for (size_t i = 0; i < ig->n; i++)
		free(ig->pat[i]);
	free(ig->pat);
	free(ig->negate);
	memset(ig, 0, sizeof(*ig));
}

/* filepath.Clean of a relative pattern: no "", "." components, ".." eats one */
static void clean(char *s)
{
	char *out = s, *p = s;
	while (*p) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		size_t cl = strcspn(p, "/");
		if (cl == 1 && p[0] == '.') {
			p += 1;
			continue;
		}
		if (cl == 2 && p[0] == '.' && p[1] == '.') {
			while (out > s && out[-1] != '/')
				out--;
			if (out > s)
				out--;
			p += 2;
			continue;
		}
		if (out > s)
			*out++ = '/';
		memmove(out, p, cl);
		out += cl;
		p += cl;
	}
	*out = '\0';
}

int bx_ignore_parse(const char *text, size_t len, struct bx_ignore *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	if (len > BX_DOCKERIGNORE_MAX)
		return bx_fail(err, E2BIG, ".dockerignore is larger than %u bytes", BX_DOCKERIGNORE_MAX);
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *s = p;
		p = nl ? nl + 1 : end;
		while (s < le && (*s == ' ' || *s == '\t'))
			s++;
		const char *e = le;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
			e--;
		if (s == e || *s == '#')
			continue;
		bool neg = *s == '!';
		if (neg) {
			s++;
			while (s < e && (*s == ' ' || *s == '\t'))
				s++;
		}
		char *pat = strndup(s, (size_t)(e - s));
		char **np = pat ? realloc(out->pat, (out->n + 1) * sizeof(*np)) : NULL;
		if (np)
			out->pat = np;
		bool *nn = np ? realloc(out->negate, (out->n + 1) * sizeof(*nn)) : NULL;
		if (!nn) {
			free(pat);
			bx_ignore_free(out);
			return bx_fail(err, ENOMEM, "out of memory");
		}
		out->negate = nn;
		clean(pat);
		if (!*pat) { /* "/" or "." : the whole context, as Docker reads it: nothing to match by name */
			free(pat);
			continue;
		}
		out->pat[out->n] = pat;
		out->negate[out->n] = neg;
		out->any_negate |= neg;
		out->n++;
	}
	return 0;
}

/* the pattern matches the path or one of its parent directories */
static bool matches(const char *pat, const char *path)
{
	if (match_here(pat, path))
		return true;
	char buf[4096];
	size_t len = strlen(path);
	if (len >= sizeof(buf))
		return false;
	memcpy(buf, path, len + 1);
	for (size_t i = len; i-- > 0;)
		if (buf[i] == '/') {
			buf[i] = '\0';
			if (match_here(pat, buf))
				return true;
		}
	return false;
}

bool bx_ignore_match(const struct bx_ignore *ig, const char *path)
{
	bool excluded = false;
	for (size_t i = 0; i < ig->n; i++)
		if (matches(ig->pat[i], path))
			excluded = !ig->negate[i];
	return excluded;
}
