/* Dockerfile instructions: parsing and applying commit's changes (instr.h). */
#include "instr.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/cleanup.h"
#include "../common/goduration.h"

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void bx_instr_free(struct bx_instr *in)
{
	free(in->rest);
	strv_free(in->args, in->nargs);
	memset(in, 0, sizeof(*in));
}

static int push(char ***v, size_t *n, const char *s, size_t len, struct bx_err *err)
{
	char **nv = realloc(*v, (*n + 2) * sizeof(*nv));
	if (!nv)
		return bx_fail(err, ENOMEM, "out of memory");
	*v = nv;
	if (!(nv[*n] = strndup(s, len)))
		return bx_fail(err, ENOMEM, "out of memory");
	nv[++*n] = NULL;
	return 0;
}

/* ["a", "b"]: only an array of strings counts as the exec form */
static int exec_form(const char *text, char ***args, size_t *n, struct bx_err *err)
{
	if (text[0] != '[')
		return 1;
	_cleanup_json_ json_t *a = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(a))
		return 1;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) if (!json_is_string(v)) return 1;
	json_array_foreach(a, i, v) if (push(args, n, json_string_value(v), json_string_length(v), err) < 0) return -1;
	return 0; /* "[]" leaves no words */
}

int bx_instr_parse(const char *line, struct bx_instr *out, struct bx_err *err)
{
	memset(out, 0, sizeof(*out));
	if (strlen(line) > BX_INSTR_MAX)
		return bx_fail(err, E2BIG, "instruction longer than %u bytes", BX_INSTR_MAX);
	while (isspace((unsigned char)*line))
		line++;
	size_t kl = 0;
	while (line[kl] && !isspace((unsigned char)line[kl]))
		kl++;
	if (!kl)
		return bx_fail(err, 0, "empty instruction: give KEYWORD ARGUMENTS, e.g. 'CMD [\"sh\"]'");
	if (kl >= sizeof(out->keyword))
		return bx_fail(err, 0, "%.*s is not a valid instruction", (int)(kl > 40 ? 40 : kl), line);
	for (size_t i = 0; i < kl; i++)
		out->keyword[i] = (char)toupper((unsigned char)line[i]);
	const char *rest = line + kl;
	while (isspace((unsigned char)*rest))
		rest++;
	size_t rl = strlen(rest);
	while (rl && isspace((unsigned char)rest[rl - 1]))
		rl--;
	if (!(out->rest = strndup(rest, rl)))
		return bx_fail(err, ENOMEM, "out of memory");
	int r = exec_form(out->rest, &out->args, &out->nargs, err);
	if (r < 0) {
		bx_instr_free(out);
		return -1;
	}
	out->json = r == 0;
	if (!out->json && push(&out->args, &out->nargs, out->rest, strlen(out->rest), err) < 0) {
		bx_instr_free(out);
		return -1;
	}
	return 0;
}

int bx_instr_words(const char *text, char ***out, size_t *n, struct bx_err *err)
{
	*out = NULL;
	*n = 0;
	size_t len = strlen(text);
	_cleanup_free_ char *w = malloc(len + 1);
	if (!w)
		return bx_fail(err, ENOMEM, "out of memory");
	const char *s = text;
	for (;;) {
		while (isspace((unsigned char)*s))
			s++;
		if (!*s)
			return 0;
		size_t k = 0;
		char quote = 0;
		for (; *s && (quote || !isspace((unsigned char)*s)); s++) {
			if (quote) {
				if (*s == quote)
					quote = 0;
				else if (*s == '\\' && quote == '"' && s[1])
					w[k++] = *++s;
				else
					w[k++] = *s;
			} else if (*s == '"' || *s == '\'') {
				quote = *s;
			} else if (*s == '\\' && s[1]) {
				w[k++] = *++s;
			} else {
				w[k++] = *s;
			}
		}
		if (quote) {
			strv_free(*out, *n);
			*out = NULL;
			*n = 0;
			return bx_fail(err, 0, "unmatched %c quote in '%s'", quote, text);
		}
		if (push(out, n, w, k, err) < 0) {
			strv_free(*out, *n);
			*out = NULL;
			*n = 0;
			return -1;
		}
	}
}

static json_t *str_array(char *const *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; a && i < n; i++)
		json_array_append_new(a, json_string(v[i]));
	return a;
}

/* exec form as is; shell form run by the config's Shell (a Dockerfile's
 * SHELL), else /bin/sh -c, as Docker on Linux */
static json_t *command_of(json_t *config, const struct bx_instr *in)
{
	if (in->json)
		return str_array(in->args, in->nargs);
	json_t *shell = json_object_get(config, "Shell");
	if (json_is_array(shell) && json_array_size(shell)) {
		json_t *c = json_deep_copy(shell);
		json_array_append_new(c, json_string(in->rest));
		return c;
	}
	return json_pack("[s,s,s]", "/bin/sh", "-c", in->rest);
}

/* KEY=VALUE pairs, or the legacy "KEY VALUE..." form when the first word has no '=' */
static int pairs(const struct bx_instr *in, char ***keys, char ***vals, size_t *n, struct bx_err *err)
{
	*keys = *vals = NULL;
	*n = 0;
	size_t nw = 0, nv = 0;
	char **words = NULL;
	if (bx_instr_words(in->rest, &words, &nw, err) < 0)
		return -1;
	int rc = -1;
	if (!nw) {
		bx_fail(err, 0, "%s requires at least one argument", in->keyword);
		goto out;
	}
	if (!strchr(words[0], '=')) {
		const char *v = in->rest + strcspn(in->rest, " \t");
		v += strspn(v, " \t");
		if (nw < 2) {
			bx_fail(err, 0, "%s %s: give KEY=VALUE (or KEY VALUE)", in->keyword, words[0]);
			goto out;
		}
		if (push(keys, n, words[0], strlen(words[0]), err) < 0 || push(vals, &nv, v, strlen(v), err) < 0)
			goto out;
		rc = 0;
		goto out;
	}
	for (size_t i = 0; i < nw; i++) {
		const char *eq = strchr(words[i], '=');
		if (!eq || eq == words[i]) {
			bx_fail(err, 0, "%s: '%s' is not KEY=VALUE", in->keyword, words[i]);
			goto out;
		}
		if (push(keys, n, words[i], (size_t)(eq - words[i]), err) < 0 || push(vals, &nv, eq + 1, strlen(eq + 1), err) < 0)
			goto out;
	}
	rc = 0;
out:
	strv_free(words, nw);
	if (rc < 0) {
		strv_free(*keys, *n);
		strv_free(*vals, nv);
		*keys = *vals = NULL;
		*n = 0;
	}
	return rc;
}

static int set_env(json_t *config, const char *key, const char *val, struct bx_err *err)
{
	json_t *env = json_object_get(config, "Env");
	if (!json_is_array(env)) {
		env = json_array();
		json_object_set_new(config, "Env", env);
	}
	size_t kl = strlen(key), i;
	json_t *v;
	char *kv = NULL;
	if (asprintf(&kv, "%s=%s", key, val) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	json_array_foreach(env, i, v) {
		const char *s = json_string_value(v);
		if (s && !strncmp(s, key, kl) && (s[kl] == '=' || !s[kl])) {
			json_array_set_new(env, i, json_string(kv));
			free(kv);
			return 0;
		}
	}
	json_array_append_new(env, json_string(kv));
	free(kv);
	return 0;
}

static json_t *object_member(json_t *config, const char *name)
{
	json_t *o = json_object_get(config, name);
	if (!json_is_object(o)) {
		o = json_object();
		json_object_set_new(config, name, o);
	}
	return o;
}

static int apply_pairs(json_t *config, const struct bx_instr *in, bool env, struct bx_err *err)
{
	char **keys, **vals;
	size_t n;
	if (pairs(in, &keys, &vals, &n, err) < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		if (env)
			rc = set_env(config, keys[i], vals[i], err);
		else
			json_object_set_new(object_member(config, "Labels"), keys[i], json_string(vals[i]));
	strv_free(keys, n);
	strv_free(vals, n);
	return rc;
}

/* "80", "80/tcp", "53/udp", "8000-8002" (a range becomes one key per port, as Docker) */
static int expose(json_t *config, const struct bx_instr *in, struct bx_err *err)
{
	char **words;
	size_t nw;
	if (bx_instr_words(in->rest, &words, &nw, err) < 0)
		return -1;
	int rc = nw ? 0 : bx_fail(err, 0, "EXPOSE requires at least one argument");
	json_t *ports = nw ? object_member(config, "ExposedPorts") : NULL;
	for (size_t i = 0; i < nw && rc == 0; i++) {
		char *slash = strchr(words[i], '/');
		const char *proto = slash ? slash + 1 : "tcp";
		if (slash)
			*slash = '\0';
		char *end;
		errno = 0;
		unsigned long lo = strtoul(words[i], &end, 10), hi = lo;
		if (*end == '-')
			hi = strtoul(end + 1, &end, 10);
		if (errno || *end || end == words[i] || lo < 1 || hi > 65535 || hi < lo ||
		    (strcasecmp(proto, "tcp") && strcasecmp(proto, "udp") && strcasecmp(proto, "sctp"))) {
			rc = bx_fail(err, 0, "EXPOSE: invalid port '%s%s%s': give PORT[/tcp|udp|sctp]", words[i],
				     slash ? "/" : "", slash ? proto : "");
			break;
		}
		for (unsigned long p = lo; p <= hi; p++) {
			char key[32], lp[8];
			snprintf(lp, sizeof(lp), "%s", proto);
			for (char *c = lp; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			snprintf(key, sizeof(key), "%lu/%s", p, lp);
			json_object_set_new(ports, key, json_object());
		}
	}
	strv_free(words, nw);
	return rc;
}

static int volume(json_t *config, const struct bx_instr *in, struct bx_err *err)
{
	char **words = NULL;
	size_t nw = 0;
	if (in->json) {
		words = in->args;
		nw = in->nargs;
	} else if (bx_instr_words(in->rest, &words, &nw, err) < 0) {
		return -1;
	}
	int rc = nw ? 0 : bx_fail(err, 0, "VOLUME requires at least one argument");
	for (size_t i = 0; i < nw && rc == 0; i++) {
		if (!*words[i])
			rc = bx_fail(err, 0, "VOLUME specified can not be an empty string");
		else
			json_object_set_new(object_member(config, "Volumes"), words[i], json_object());
	}
	if (!in->json)
		strv_free(words, nw);
	return rc;
}

static int workdir(json_t *config, const struct bx_instr *in, struct bx_err *err)
{
	if (!*in->rest)
		return bx_fail(err, 0, "WORKDIR requires exactly one argument");
	const char *cur = json_string_value(json_object_get(config, "WorkingDir"));
	_cleanup_free_ char *wd = NULL;
	if (in->rest[0] == '/' || !cur || !*cur)
		wd = in->rest[0] == '/' ? strdup(in->rest) : (asprintf(&wd, "/%s", in->rest) < 0 ? NULL : wd);
	else if (asprintf(&wd, "%s%s%s", cur, cur[strlen(cur) - 1] == '/' ? "" : "/", in->rest) < 0)
		wd = NULL;
	if (!wd)
		return bx_fail(err, ENOMEM, "out of memory");
	json_object_set_new(config, "WorkingDir", json_string(wd));
	return 0;
}

int bx_instr_apply_change(json_t *config, const struct bx_instr *in, struct bx_err *err)
{
	const char *k = in->keyword;
	if (!strcmp(k, "CMD") || !strcmp(k, "ENTRYPOINT")) {
		json_t *c = command_of(config, in);
		if (!c)
			return bx_fail(err, ENOMEM, "out of memory");
		json_object_set_new(config, !strcmp(k, "CMD") ? "Cmd" : "Entrypoint", c);
		return 0;
	}
	if (!strcmp(k, "ENV") || !strcmp(k, "LABEL"))
		return apply_pairs(config, in, !strcmp(k, "ENV"), err);
	if (!strcmp(k, "EXPOSE"))
		return expose(config, in, err);
	if (!strcmp(k, "VOLUME"))
		return volume(config, in, err);
	if (!strcmp(k, "WORKDIR"))
		return workdir(config, in, err);
	if (!strcmp(k, "USER")) {
		if (!*in->rest)
			return bx_fail(err, 0, "USER requires exactly one argument");
		json_object_set_new(config, "User", json_string(in->rest));
		return 0;
	}
	if (!strcmp(k, "ONBUILD")) {
		if (!*in->rest)
			return bx_fail(err, 0, "ONBUILD requires at least one argument");
		json_t *ob = json_object_get(config, "OnBuild");
		if (!json_is_array(ob)) {
			ob = json_array();
			json_object_set_new(config, "OnBuild", ob);
		}
		json_array_append_new(ob, json_string(in->rest));
		return 0;
	}
	char lower[sizeof(in->keyword)];
	for (size_t i = 0; i < sizeof(lower); i++)
		lower[i] = (char)tolower((unsigned char)k[i]);
	return bx_fail(err, 0, "%s is not a valid change command", lower);
}

/* HEALTHCHECK [--interval=D --timeout=D --start-period=D --retries=N] CMD ...
 * | NONE, as Docker's builder records it (durations in ns, 0: not given) */
static int healthcheck(json_t *config, const struct bx_instr *in, const char *flags, struct bx_err *err)
{
	size_t kl = strcspn(in->rest, " \t");
	if (kl == 4 && !strncasecmp(in->rest, "NONE", 4)) {
		if (in->rest[kl] || (flags && *flags))
			return bx_fail(err, 0, "HEALTHCHECK NONE takes no arguments");
		json_object_set_new(config, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
		return 0;
	}
	if (kl != 3 || strncasecmp(in->rest, "CMD", 3))
		return bx_fail(err, 0, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)", (int)(kl > 32 ? 32 : kl), in->rest);
	struct bx_instr cmd;
	_cleanup_free_ char *line = NULL;
	if (asprintf(&line, "CMD %s", in->rest + kl) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	if (bx_instr_parse(line, &cmd, err) < 0)
		return -1;
	if (!cmd.nargs || (!cmd.json && !*cmd.rest)) {
		bx_instr_free(&cmd);
		return bx_fail(err, 0, "Missing command after HEALTHCHECK CMD");
	}
	json_t *test = cmd.json ? str_array(cmd.args, cmd.nargs) : json_pack("[s,s]", "CMD-SHELL", cmd.rest);
	if (cmd.json)
		json_array_insert_new(test, 0, json_string("CMD"));
	bx_instr_free(&cmd);
	json_t *hc = json_pack("{s:o}", "Test", test);
	static const char *const keys[] = {"interval", "Interval", "timeout", "Timeout", "start-period", "StartPeriod"};
	for (const char *f = flags; f && *f;) {
		size_t fl = strcspn(f, "\n");
		const char *eq = memchr(f, '=', fl);
		_cleanup_free_ char *val = eq ? strndup(eq + 1, fl - (size_t)(eq + 1 - f)) : strdup("");
		size_t nl = eq ? (size_t)(eq - f) : fl;
		bool done = false;
		for (size_t i = 0; i < 6 && !done; i += 2)
			if (strlen(keys[i]) == nl && !strncmp(f, keys[i], nl)) {
				long long ns;
				if (bx_goduration_parse(val, &ns, err) < 0) {
					json_decref(hc);
					return bx_wrap(err, "HEALTHCHECK --%s", keys[i]);
				}
				if (ns < 1000000 && ns != 0) {
					json_decref(hc);
					return bx_fail(err, 0, "Interval \"%s\" cannot be less than 1ms", keys[i]);
				}
				json_object_set_new(hc, keys[i + 1], json_integer(ns));
				done = true;
			}
		if (!done && nl == 7 && !strncmp(f, "retries", 7)) {
			char *end;
			long r = strtol(val, &end, 10);
			if (end == val || *end || r < 1 || r > 1000000) {
				json_decref(hc);
				return bx_fail(err, 0, "--retries must be at least 1");
			}
			json_object_set_new(hc, "Retries", json_integer(r));
		}
		f += fl + (f[fl] == '\n');
	}
	json_object_set_new(config, "Healthcheck", hc);
	return 0;
}

int bx_instr_apply_build(json_t *config, const struct bx_instr *in, const char *flags, struct bx_err *err)
{
	const char *k = in->keyword;
	if (!strcmp(k, "STOPSIGNAL")) {
		if (!*in->rest || strchr(in->rest, ' '))
			return bx_fail(err, 0, "STOPSIGNAL requires exactly one argument");
		json_object_set_new(config, "StopSignal", json_string(in->rest));
		return 0;
	}
	if (!strcmp(k, "SHELL")) {
		if (!in->json || !in->nargs)
			return bx_fail(err, 0, "SHELL requires the arguments to be in JSON form");
		json_object_set_new(config, "Shell", str_array(in->args, in->nargs));
		return 0;
	}
	if (!strcmp(k, "HEALTHCHECK"))
		return healthcheck(config, in, flags, err);
	if (!strcmp(k, "MAINTAINER"))
		return 0; /* the image's author: set by the builder, not the config */
	return bx_instr_apply_change(config, in, err);
}

char *bx_instr_pairs_text(const struct bx_instr *in, struct bx_err *err)
{
	char **keys, **vals;
	size_t n;
	if (pairs(in, &keys, &vals, &n, err) < 0)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (f) {
		for (size_t i = 0; i < n; i++)
			fprintf(f, "%s%s=%s", i ? " " : "", keys[i], vals[i]);
		fclose(f);
	} else {
		bx_fail(err, ENOMEM, "out of memory");
	}
	strv_free(keys, n);
	strv_free(vals, n);
	return text;
}
