#include "template.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sbuf {
	char *s;
	size_t len, cap;
	bool oom;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (b->len + n + 1 > cap)
			cap *= 2;
		char *ns = realloc(b->s, cap);
		if (!ns) {
			b->oom = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/* One action between {{ and }}: "[json] .path" or "[json] .". */
struct action {
	bool json;
	char path[256]; /* "" = the object itself */
};

static int parse_action(const char *a, size_t n, struct action *out, struct bx_err *err)
{
	char buf[300];
	if (n >= sizeof(buf))
		return bx_fail(err, 0, "invalid format: {{%.*s}} is too long", (int)(n > 40 ? 40 : n), a);
	memcpy(buf, a, n);
	buf[n] = '\0';
	char *p = buf;
	while (isspace((unsigned char)*p))
		p++;
	char *e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		*--e = '\0';
	out->json = false;
	if (!strncmp(p, "json ", 5)) {
		out->json = true;
		p += 5;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (p[0] != '.')
		return bx_fail(err, 0, "invalid format: {{%s}}: use {{.Field}} or {{json .Field}}", buf);
	p++;
	for (char *c = p; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-')
			return bx_fail(err, 0, "invalid format: {{%s}}: use {{.Field}} or {{json .Field}}", buf);
	snprintf(out->path, sizeof(out->path), "%s", p);
	return 0;
}

static json_t *lookup(json_t *obj, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *v = obj;
	for (char *tok = strtok(buf, "."); tok && v; tok = strtok(NULL, "."))
		v = json_object_get(v, tok);
	return v;
}

static int walk(const char *fmt, json_t *obj, struct sbuf *b, struct bx_err *err)
{
	for (const char *p = fmt; *p;) {
		if (p[0] == '{' && p[1] == '{') {
			const char *end = strstr(p + 2, "}}");
			if (!end)
				return bx_fail(err, 0, "invalid format: unclosed {{ in \"%s\"", fmt);
			struct action a;
			if (parse_action(p + 2, (size_t)(end - p - 2), &a, err) < 0)
				return -1;
			if (b) {
				json_t *v = a.path[0] ? lookup(obj, a.path) : obj;
				if (!v) {
					put(b, a.json ? "null" : "<no value>", a.json ? 4 : 10);
				} else if (json_is_string(v) && !a.json) {
					put(b, json_string_value(v), json_string_length(v));
				} else {
					char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
					if (t)
						put(b, t, strlen(t));
					free(t);
				}
			}
			p = end + 2;
		} else if (p[0] == '\\' && (p[1] == 't' || p[1] == 'n')) {
			if (b)
				put(b, p[1] == 't' ? "\t" : "\n", 1);
			p += 2;
		} else {
			if (b)
				put(b, p, 1);
			p++;
		}
	}
	return 0;
}

int bx_template_check(const char *fmt, struct bx_err *err)
{
	return walk(fmt, NULL, NULL, err);
}

int bx_template_render(const char *fmt, json_t *obj, char **out, struct bx_err *err)
{
	struct sbuf b = {0};
	put(&b, "", 0);
	if (walk(fmt, obj, &b, err) < 0 || b.oom) {
		free(b.s);
		return b.oom ? bx_fail(err, ENOMEM, "out of memory") : -1;
	}
	*out = b.s;
	return 0;
}
