/* Reading a Dockerfile into its instructions (dockerfile.h). */
#include "dockerfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/cleanup.h"

/* the classic builder's instructions (Docker 20.10) */
static const char *const keywords[] = {"ADD",    "ARG",  "CMD",        "COPY",        "ENTRYPOINT", "ENV",
				       "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",      "MAINTAINER", "ONBUILD",
				       "RUN",    "SHELL", "STOPSIGNAL", "USER",       "VOLUME",     "WORKDIR"};

/* flags each keyword takes (Docker's BFlags), NULL-separated lists */
static const char *flags_of(const char *kw)
{
	if (!strcmp(kw, "COPY"))
		return " chown from ";
	if (!strcmp(kw, "ADD"))
		return " chown ";
	if (!strcmp(kw, "FROM"))
		return " platform ";
	if (!strcmp(kw, "HEALTHCHECK"))
		return " interval timeout start-period retries ";
	return NULL;
}

static bool known(const char *kw)
{
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcmp(kw, keywords[i]))
			return true;
	return false;
}

void bx_dockerfile_free(struct bx_dockerfile *df)
{
	for (size_t i = 0; i < df->n; i++) {
		bx_instr_free(&df->steps[i].in);
		free(df->steps[i].flags);
	}
	free(df->steps);
	memset(df, 0, sizeof(*df));
}

static bool blank(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!isspace((unsigned char)s[i]))
			return false;
	return true;
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t' || *s == '\r'))
		s++;
	return s;
}

/* "# key=value" at the top: 1 (and key/value) when the line is one */
static int directive(const char *s, const char *end, char *key, size_t ksize, char *val, size_t vsize)
{
	s = skip_ws(s, end);
	if (s == end || *s != '#')
		return 0;
	s = skip_ws(s + 1, end);
	const char *k = s;
	while (s < end && (isalnum((unsigned char)*s) || *s == '_' || *s == '-'))
		s++;
	size_t kl = (size_t)(s - k);
	s = skip_ws(s, end);
	if (!kl || s == end || *s != '=')
		return 0;
	s = skip_ws(s + 1, end);
	const char *v = s;
	const char *ve = end;
	while (ve > v && isspace((unsigned char)ve[-1]))
		ve--;
	snprintf(key, ksize, "%.*s", (int)kl, k);
	snprintf(val, vsize, "%.*s", (int)(ve - v), v);
	for (char *c = key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return 1;
}

/* one logical instruction's text: split off keyword and leading flags */
static int add_step(struct bx_dockerfile *df, unsigned line, const char *text, struct bx_err *err)
{
	if (df->n >= BX_DOCKERFILE_MAX_STEPS)
		return bx_fail(err, E2BIG, "dockerfile parse error line %u: more than %u instructions", line,
			       BX_DOCKERFILE_MAX_STEPS);
	struct bx_df_step *ns = realloc(df->steps, (df->n + 1) * sizeof(*ns));
	if (!ns)
		return bx_fail(err, ENOMEM, "out of memory");
	df->steps = ns;
	struct bx_df_step *s = &ns[df->n];
	memset(s, 0, sizeof(*s));
	s->line = line;
	/* the keyword first, to know its flags */
	const char *t = text;
	while (isspace((unsigned char)*t))
		t++;
	size_t kl = strcspn(t, " \t\r");
	char kw[16] = "";
	if (kl < sizeof(kw))
		for (size_t i = 0; i < kl; i++) {
			kw[i] = (char)toupper((unsigned char)t[i]);
			s->written[i] = t[i];
		}
	if (!known(kw))
		return bx_fail(err, 0, "dockerfile parse error line %u: unknown instruction: %.*s", line,
			       (int)(kl > 64 ? 64 : kl), t);
	const char *rest = t + kl;
	const char *allowed = flags_of(kw);
	_cleanup_free_ char *flags = NULL;
	size_t flen = 0;
	for (;;) {
		while (*rest == ' ' || *rest == '\t' || *rest == '\r')
			rest++;
		if (strncmp(rest, "--", 2))
			break;
		size_t wl = strcspn(rest, " \t\r");
		size_t nl = strcspn(rest + 2, "= \t\r");
		char name[32];
		snprintf(name, sizeof(name), "%.*s", (int)(nl > 30 ? 30 : nl), rest + 2);
		char probe[40];
		snprintf(probe, sizeof(probe), " %s ", name);
		if (!allowed || !strstr(allowed, probe) || nl > 30)
			return bx_fail(err, 0, "dockerfile parse error line %u: Unknown flag: %s", line, name);
		char *nf = realloc(flags, flen + wl + 2);
		if (!nf)
			return bx_fail(err, ENOMEM, "out of memory");
		flags = nf;
		memcpy(flags + flen, rest + 2, wl - 2);
		flen += wl - 2;
		flags[flen++] = '\n';
		flags[flen] = '\0';
		rest += wl;
	}
	if (!strcmp(kw, "ONBUILD")) { /* the trigger's own keyword is checked now, as Docker's parser does */
		size_t tl = strcspn(rest, " \t\r");
		char trig[16] = "";
		for (size_t i = 0; i < tl && i + 1 < sizeof(trig); i++)
			trig[i] = (char)toupper((unsigned char)rest[i]);
		if (!tl)
			return bx_fail(err, 0, "dockerfile parse error line %u: ONBUILD requires at least one argument", line);
		if (tl < sizeof(trig) && bx_df_trigger_allowed(trig, err) < 0)
			return bx_wrap(err, "dockerfile parse error line %u", line);
	}
	char *line_text = NULL;
	if (asprintf(&line_text, "%s %s", kw, rest) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	int r = bx_instr_parse(line_text, &s->in, err);
	free(line_text);
	if (r < 0)
		return bx_wrap(err, "dockerfile parse error line %u", line);
	s->flags = flags;
	flags = NULL;
	df->n++;
	return 0;
}

int bx_dockerfile_parse(const char *text, size_t len, struct bx_dockerfile *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	out->escape = '\\';
	if (len > BX_DOCKERFILE_MAX)
		return bx_fail(err, E2BIG, "the Dockerfile is larger than %u bytes", BX_DOCKERFILE_MAX);
	if (memchr(text, '\0', len))
		return bx_fail(err, 0, "the Dockerfile holds a NUL byte: is it a text file?");
	const char *p = text, *end = text + len;
	if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3)) /* a UTF-8 byte order mark, as Docker skips it */
		p += 3;
	bool directives = true;
	unsigned lineno = 0, start_line = 0;
	char *acc = NULL; /* the instruction being joined */
	size_t alen = 0;
	int rc = -1;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		lineno++;
		const char *ls = p;
		p = nl ? nl + 1 : end;
		if (directives) {
			char key[32], val[64];
			if (directive(ls, le, key, sizeof(key), val, sizeof(val))) {
				if (!strcmp(key, "escape")) {
					if (strcmp(val, "\\") && strcmp(val, "`")) {
						bx_fail(err, 0, "invalid ESCAPE '%s'. Must be ` or \\", val);
						goto out;
					}
					out->escape = val[0];
					continue;
				}
				if (!strcmp(key, "syntax")) {
					out->syntax_given = true;
					continue;
				}
			}
			directives = false;
		}
		const char *s = skip_ws(ls, le);
		if (s < le && *s == '#') /* a comment, also between continued lines */
			continue;
		if (blank(ls, (size_t)(le - ls)))
			continue; /* a blank line ends nothing (Docker 20.10 warns inside a continuation) */
		if (acc) /* a continued line keeps its leading blanks, as Docker joins them */
			s = ls;
		const char *e = le;
		while (e > s && isspace((unsigned char)e[-1]))
			e--;
		bool cont = e > s && e[-1] == out->escape;
		if (cont)
			e--;
		if (!acc)
			start_line = lineno;
		char *na = realloc(acc, alen + (size_t)(e - s) + 1);
		if (!na) {
			bx_fail(err, ENOMEM, "out of memory");
			goto out;
		}
		acc = na;
		memcpy(acc + alen, s, (size_t)(e - s));
		alen += (size_t)(e - s);
		acc[alen] = '\0';
		if (cont)
			continue;
		if (add_step(out, start_line, acc, err) < 0)
			goto out;
		free(acc);
		acc = NULL;
		alen = 0;
	}
	if (acc && !blank(acc, alen) && add_step(out, start_line, acc, err) < 0)
		goto out;
	if (!out->n) {
		bx_fail(err, 0, "the Dockerfile cannot be empty");
		goto out;
	}
	rc = 0;
out:
	free(acc);
	if (rc < 0)
		bx_dockerfile_free(out);
	return rc;
}

int bx_df_trigger_allowed(const char *keyword, struct bx_err *err)
{
	if (!strcasecmp(keyword, "ONBUILD"))
		return bx_fail(err, 0, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
	if (!strcasecmp(keyword, "FROM") || !strcasecmp(keyword, "MAINTAINER"))
		return bx_fail(err, 0, "%s isn't allowed as an ONBUILD trigger", !strcasecmp(keyword, "FROM") ? "FROM" : "MAINTAINER");
	return 0;
}

/* a FROM step's AS name (Docker's: not substituted), "" when none */
static int stage_name(const struct bx_df_step *s, char *name, size_t size, struct bx_err *err)
{
	char **w = NULL;
	size_t nw = 0;
	name[0] = '\0';
	if (bx_instr_words(s->in.rest, &w, &nw, err) < 0)
		return -1;
	if (nw == 3 && !strcasecmp(w[1], "AS"))
		snprintf(name, size, "%s", w[2]);
	for (size_t i = 0; i < nw; i++)
		free(w[i]);
	free(w);
	return 0;
}

int bx_df_target_end(const struct bx_dockerfile *df, const char *target, size_t *end, struct bx_err *err)
{
	bool found = false;
	for (size_t i = 0; i < df->n; i++) {
		if (strcmp(df->steps[i].in.keyword, "FROM"))
			continue;
		if (found) {
			*end = i;
			return 0;
		}
		char name[256];
		if (stage_name(&df->steps[i], name, sizeof(name), err) < 0)
			return -1;
		found = name[0] && !strcasecmp(name, target);
	}
	if (!found)
		return bx_fail(err, 0, "failed to reach build target %s in Dockerfile", target);
	*end = df->n;
	return 0;
}

int bx_df_flag(const struct bx_df_step *s, const char *name, char *out, size_t size, struct bx_err *err)
{
	size_t nl = strlen(name);
	for (const char *f = s->flags; f && *f;) {
		size_t fl = strcspn(f, "\n");
		if (fl >= nl && !strncmp(f, name, nl) && (f[nl] == '=' || fl == nl)) {
			const char *v = f[nl] == '=' ? f + nl + 1 : f + nl;
			size_t vl = fl - (size_t)(v - f);
			if (vl >= size)
				return bx_fail(err, E2BIG, "line %u: --%s is too long", s->line, name);
			memcpy(out, v, vl);
			out[vl] = '\0';
			return 1;
		}
		f += fl + (f[fl] == '\n');
	}
	return 0;
}

static const char *lookup(const char *name, size_t nl, char *const *vars, size_t nvars)
{
	for (size_t i = nvars; i-- > 0;)
		if (!strncmp(vars[i], name, nl) && vars[i][nl] == '=')
			return vars[i] + nl + 1;
	return NULL;
}

struct sbuf {
	char *s;
	size_t len, cap;
};

static int sb_add(struct sbuf *b, const char *s, size_t n, struct bx_err *err)
{
	if (b->len + n + 1 > BX_INSTR_MAX + 1)
		return bx_fail(err, E2BIG, "instruction longer than %u bytes after substitution", BX_INSTR_MAX);
	if (b->len + n + 1 > b->cap) {
		size_t nc = (b->len + n + 1) * 2;
		char *ns = realloc(b->s, nc);
		if (!ns)
			return bx_fail(err, ENOMEM, "out of memory");
		b->s = ns;
		b->cap = nc;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
	return 0;
}

int bx_df_expand(const char *text, char escape, char *const *vars, size_t nvars, char **out, struct bx_err *err)
{
	struct sbuf b = {0};
	*out = NULL;
	bool squote = false;
	if (sb_add(&b, "", 0, err) < 0)
		return -1;
	for (const char *s = text; *s;) {
		if (*s == '\'' ) {
			squote = !squote;
		} else if (!squote && *s == escape && s[1] == '$') {
			if (sb_add(&b, "$", 1, err) < 0)
				goto fail;
			s += 2;
			continue;
		} else if (!squote && *s == escape && s[1]) {
			if (sb_add(&b, s, 2, err) < 0)
				goto fail;
			s += 2;
			continue;
		} else if (!squote && *s == '$') {
			const char *n = s + 1;
			bool braced = *n == '{';
			if (braced)
				n++;
			size_t nl = 0;
			while (isalnum((unsigned char)n[nl]) || n[nl] == '_')
				nl++;
			if (nl) {
				const char *val = lookup(n, nl, vars, nvars);
				const char *after = n + nl;
				if (braced) {
					const char *close = strchr(after, '}');
					if (!close) {
						bx_fail(err, 0, "missing '}' in '%.64s'", s);
						goto fail;
					}
					if (after[0] == ':' && (after[1] == '-' || after[1] == '+')) {
						_cleanup_free_ char *word = NULL;
						_cleanup_free_ char *raw = strndup(after + 2, (size_t)(close - after - 2));
						if (!raw || bx_df_expand(raw, escape, vars, nvars, &word, err) < 0)
							goto fail;
						bool set = val && *val;
						const char *use = after[1] == '-' ? (set ? val : word) : (set ? word : "");
						if (sb_add(&b, use, strlen(use), err) < 0)
							goto fail;
						s = close + 1;
						continue;
					}
					if (after != close) {
						bx_fail(err, 0, "bad substitution in '%.64s'", s);
						goto fail;
					}
					after = close + 1;
				}
				if (val && sb_add(&b, val, strlen(val), err) < 0)
					goto fail;
				s = after;
				continue;
			}
		}
		if (sb_add(&b, s, 1, err) < 0)
			goto fail;
		s++;
	}
	*out = b.s;
	return 0;
fail:
	free(b.s);
	return -1;
}
