/* The subset of Go templates Docker users write in --format (pure) (template.h). */
#include "template.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/bytes.h"

/* the text being rendered; a failure to grow it sticks (oom) */
struct sbuf {
	struct bx_bytes q;
	bool oom;
};

static void put(struct sbuf *b, const char *s, size_t n)
{
	if (!b->oom && bx_bytes_push(&b->q, s, n, NULL) < 0)
		b->oom = true;
}

static void puts_(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* One action between {{ and }}:
 *   .path | json .path | .Method "arg" | index .path "key" | join .path "sep" */
enum fn { FN_NONE, FN_JSON, FN_INDEX, FN_JOIN };
struct action {
	enum fn fn;
	char path[256]; /* "" = the object itself */
	bool has_arg;   /* a string literal followed the path */
	char arg[256];
};

/* a Go string literal "..." (escapes \" \\ \n \t) at *p; advances *p past it */
static bool take_string(const char **p, char *out, size_t size)
{
	const char *s = *p;
	if (*s++ != '"')
		return false;
	size_t n = 0;
	for (; *s && *s != '"'; s++) {
		char c = *s;
		if (c == '\\') {
			s++;
			c = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
			if (!c)
				return false;
		}
		if (n + 1 >= size)
			return false;
		out[n++] = c;
	}
	if (*s != '"')
		return false;
	out[n] = '\0';
	*p = s + 1;
	return true;
}

static int bad_action(struct bx_err *err, const char *text)
{
	return bx_fail(err, 0,
		       "invalid format: {{%s}}: use {{.Field}}, {{json .Field}}, {{index .Field \"key\"}}, "
		       "{{join .Field \"sep\"}} or {{.Method \"arg\"}}",
		       text);
}

static int parse_action(const char *a, size_t n, struct action *out, struct bx_err *err)
{
	char buf[300];
	if (n >= sizeof(buf))
		return bx_fail(err, 0, "invalid format: {{%.*s}} is too long", (int)(n > 40 ? 40 : n), a);
	memcpy(buf, a, n);
	buf[n] = '\0';
	const char *p = buf;
	while (isspace((unsigned char)*p))
		p++;
	out->fn = FN_NONE;
	out->has_arg = false;
	static const struct {
		const char *name;
		enum fn fn;
	} fns[] = {{"json", FN_JSON}, {"index", FN_INDEX}, {"join", FN_JOIN}};
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		size_t l = strlen(fns[i].name);
		if (!strncmp(p, fns[i].name, l) && isspace((unsigned char)p[l])) {
			out->fn = fns[i].fn;
			p += l;
			while (isspace((unsigned char)*p))
				p++;
			break;
		}
	}
	if (p[0] != '.')
		return bad_action(err, buf);
	p++;
	size_t len = 0;
	for (; *p && !isspace((unsigned char)*p); p++) {
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' && *p != '-')
			return bad_action(err, buf);
		out->path[len++] = *p; /* len < 300 - 1 and path is 256: checked below */
		if (len >= sizeof(out->path))
			return bx_fail(err, 0, "invalid format: {{%s}}: the field path is too long", buf);
	}
	out->path[len] = '\0';
	while (isspace((unsigned char)*p))
		p++;
	if (*p == '"') {
		if (!take_string(&p, out->arg, sizeof(out->arg)))
			return bad_action(err, buf);
		out->has_arg = true;
		while (isspace((unsigned char)*p))
			p++;
	}
	if (*p || (out->fn == FN_JSON && out->has_arg) || ((out->fn == FN_INDEX || out->fn == FN_JOIN) && !out->has_arg))
		return bad_action(err, buf);
	return 0;
}

/* A member of obj; fold: a key that differs only in case will do (Go's
 * field Time of a struct that JSON names "time") */
static json_t *member(json_t *obj, const char *key, bool fold)
{
	json_t *v = json_object_get(obj, key);
	if (v || !fold)
		return v;
	const char *k;
	json_object_foreach(obj, k, v) {
		if (!strcasecmp(k, key))
			return v;
	}
	return NULL;
}

static json_t *lookup(json_t *obj, const char *path, bool fold)
{
	char buf[256];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *v = obj;
	char *save = NULL;
	for (char *tok = strtok_r(buf, ".", &save); tok && v; tok = strtok_r(NULL, ".", &save))
		v = member(v, tok, fold);
	return v;
}

/* Go's %v of a float64: whole numbers in full, others in the shortest form that reads back */
static void put_real(struct sbuf *b, double d)
{
	char t[40];
	double magnitude = d < 0 ? -d : d;
	if (magnitude < 1e18 && d == (double)(long long)d) {
		snprintf(t, sizeof(t), "%.0f", d);
	} else {
		for (int prec = 1; prec <= 17; prec++) {
			snprintf(t, sizeof(t), "%.*g", prec, d);
			if (strtod(t, NULL) == d)
				break;
		}
	}
	puts_(b, t);
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A value as Go's fmt prints it (%v) in a template: strings raw, lists
 * "[a b]", maps "map[k:v]" with sorted keys, nil "<nil>". */
static void put_value(struct sbuf *b, json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		put(b, json_string_value(v), json_string_length(v));
		break;
	case JSON_INTEGER: {
		char t[32];
		snprintf(t, sizeof(t), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		puts_(b, t);
		break;
	}
	case JSON_REAL:
		put_real(b, json_real_value(v));
		break;
	case JSON_TRUE:
		puts_(b, "true");
		break;
	case JSON_FALSE:
		puts_(b, "false");
		break;
	case JSON_NULL:
		puts_(b, "<nil>");
		break;
	case JSON_ARRAY: {
		puts_(b, "[");
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (i)
				puts_(b, " ");
			put_value(b, e);
		}
		puts_(b, "]");
		break;
	}
	case JSON_OBJECT: {
		size_t n = json_object_size(v), k = 0;
		const char **keys = calloc(n ? n : 1, sizeof(*keys));
		if (!keys) {
			b->oom = true;
			return;
		}
		const char *key;
		json_t *e;
		json_object_foreach(v, key, e) keys[k++] = key;
		qsort(keys, n, sizeof(*keys), by_key);
		puts_(b, "map[");
		for (size_t i = 0; i < n; i++) {
			if (i)
				puts_(b, " ");
			puts_(b, keys[i]);
			puts_(b, ":");
			put_value(b, json_object_get(v, keys[i]));
		}
		puts_(b, "]");
		free(keys);
		break;
	}
	}
}

/* Docker's inspect fields whose Go type is a map: null prints "map[]" there,
 * as a nil map does; any other null field is a nil slice, "[]". */
static bool map_typed(const char *path)
{
	static const char *const maps[] = {"Labels",   "Volumes",    "ExposedPorts", "Ports",      "Networks",
					   "Options",  "DriverOpts", "Sysctls",      "StorageOpt", "Tmpfs",
					   "Data",     "Status",     "Annotations",  NULL};
	const char *last = strrchr(path, '.');
	last = last ? last + 1 : path;
	for (const char *const *m = maps; *m; m++)
		if (!strcmp(*m, last))
			return true;
	return false;
}

static void render(const struct action *a, json_t *obj, struct sbuf *b, bool fold)
{
	json_t *v = a->path[0] ? lookup(obj, a->path, fold) : obj;
	if (a->fn == FN_JSON) {
		char *t = v ? json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_PRESERVE_ORDER) : NULL;
		puts_(b, t ? t : "null");
		free(t);
		return;
	}
	if (a->has_arg && a->fn != FN_JOIN) { /* index .M "k", .Method "k": a missing key is empty */
		json_t *e = member(v, a->arg, false);
		if (e)
			put_value(b, e);
		return;
	}
	if (a->fn == FN_JOIN) {
		size_t i;
		json_t *e;
		json_array_foreach(v, i, e) {
			if (i)
				puts_(b, a->arg);
			put_value(b, e);
		}
		return;
	}
	if (!v && fold)
		return; /* a struct's field that JSON omits when empty (Docker's events: status, id, from) */
	if (!v)
		puts_(b, "<no value>"); /* as Go does for a map key that is not there */
	else if (json_is_null(v))
		puts_(b, map_typed(a->path) ? "map[]" : "[]");
	else
		put_value(b, v);
}

static int walk(const char *fmt, json_t *obj, struct sbuf *b, bool fold, struct bx_err *err)
{
	for (const char *p = fmt; *p;) {
		if (p[0] == '{' && p[1] == '{') {
			const char *end = strstr(p + 2, "}}");
			if (!end)
				return bx_fail(err, 0, "invalid format: unclosed {{ in \"%s\"", fmt);
			struct action a;
			if (parse_action(p + 2, (size_t)(end - p - 2), &a, err) < 0)
				return -1;
			if (b)
				render(&a, obj, b, fold);
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
	return walk(fmt, NULL, NULL, false, err);
}

static int render_all(const char *fmt, json_t *obj, bool fold, char **out, struct bx_err *err)
{
	struct sbuf b = {0};
	if (walk(fmt, obj, &b, fold, err) < 0 || b.oom) {
		bx_bytes_free(&b.q);
		return b.oom ? bx_fail(err, ENOMEM, "out of memory") : -1;
	}
	*out = bx_bytes_take_str(&b.q, err);
	return *out ? 0 : -1;
}

int bx_template_render(const char *fmt, json_t *obj, char **out, struct bx_err *err)
{
	return render_all(fmt, obj, false, out, err);
}

int bx_template_render_fold(const char *fmt, json_t *obj, char **out, struct bx_err *err)
{
	return render_all(fmt, obj, true, out, err);
}
