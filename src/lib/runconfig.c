#include "runconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paths.h"

/* env list kept as a growable array; "K=V" keys replace earlier ones in place
 * so the image's order is preserved, as Docker does. */
struct envlist {
	char **v;
	size_t n, cap;
};

static void envlist_free(struct envlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

static size_t key_len(const char *kv)
{
	const char *eq = strchr(kv, '=');
	return eq ? (size_t)(eq - kv) : strlen(kv);
}

static int envlist_set(struct envlist *l, const char *kv, struct bx_err *err)
{
	size_t kl = key_len(kv);
	char *dup = strdup(kv);
	if (!dup)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < l->n; i++) {
		if (key_len(l->v[i]) == kl && !strncmp(l->v[i], kv, kl)) {
			free(l->v[i]);
			l->v[i] = dup;
			return 0;
		}
	}
	if (l->n + 1 >= l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **nv = realloc(l->v, cap * sizeof(*nv));
		if (!nv) {
			free(dup);
			return bx_fail(err, ENOMEM, "out of memory");
		}
		l->v = nv;
		l->cap = cap;
	}
	l->v[l->n++] = dup;
	l->v[l->n] = NULL;
	return 0;
}

/* "-e NAME=V" as is; "-e NAME" takes the caller's value or is skipped. */
static int envlist_set_flag(struct envlist *l, const char *item, bx_getenv_fn getenv_fn, struct bx_err *err)
{
	if (!*item || *item == '=')
		return bx_fail(err, EINVAL, "invalid environment variable '%s': expected NAME=VALUE or NAME", item);
	if (strchr(item, '='))
		return envlist_set(l, item, err);
	const char *v = getenv_fn ? getenv_fn(item) : NULL;
	if (!v)
		return 0;
	size_t len = strlen(item) + strlen(v) + 2;
	char *kv = malloc(len);
	if (!kv)
		return bx_fail(err, ENOMEM, "out of memory");
	snprintf(kv, len, "%s=%s", item, v);
	int rc = envlist_set(l, kv, err);
	free(kv);
	return rc;
}

int bx_envfile_parse(const char *text, const char *fname, bx_getenv_fn getenv_fn, char ***env, size_t *n,
		     struct bx_err *err)
{
	struct envlist l = {.v = *env, .n = *n, .cap = *n ? *n + 1 : 0};
	const char *p = text;
	int lineno = 0, rc = 0;
	while (*p && rc == 0) {
		lineno++;
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		p = end ? end + 1 : p + len;
		char line[8192];
		if (len >= sizeof(line)) {
			rc = bx_fail(err, 0, "%s:%d: line too long", fname, lineno);
			break;
		}
		memcpy(line, p - len - (end ? 1 : 0), len);
		line[len] = '\0';
		if (len && line[len - 1] == '\r')
			line[len - 1] = '\0';
		char *s = line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '='), *sp = strpbrk(s, " \t");
		if (sp && (!eq || sp < eq))
			rc = bx_fail(err, 0, "%s:%d: variable '%s' contains whitespaces", fname, lineno, s);
		else if (envlist_set_flag(&l, s, getenv_fn, err) < 0)
			rc = bx_wrap(err, "%s:%d", fname, lineno);
	}
	/* the caller owns what was parsed so far, on success and failure alike */
	*env = l.v;
	*n = l.n;
	return rc;
}

static bool strv_empty(char **v)
{
	return !v || !v[0];
}

int bx_runconfig_build(const struct bx_image_config *img, const struct bx_run_opts *opts, bx_getenv_fn getenv_fn,
		       struct bx_spec *out, struct bx_err *err)
{
	int rc = -1;
	struct envlist env = {0};

	/* argv */
	if (opts->entrypoint) {
		if (*opts->entrypoint && bx_spec_add_arg(out, opts->entrypoint, err) < 0)
			goto out;
	} else {
		for (char **e = img->entrypoint; e && *e; e++)
			if (bx_spec_add_arg(out, *e, err) < 0)
				goto out;
	}
	if (!strv_empty(opts->command)) {
		for (char **c = opts->command; *c; c++)
			if (bx_spec_add_arg(out, *c, err) < 0)
				goto out;
	} else if (!opts->entrypoint) {
		for (char **c = img->cmd; c && *c; c++)
			if (bx_spec_add_arg(out, *c, err) < 0)
				goto out;
	}
	if (out->nargs == 0) {
		bx_fail(err, 0, "no command specified: the image has no Entrypoint or Cmd; give one after the image name");
		goto out;
	}

	/* env */
	for (char **e = img->env; e && *e; e++)
		if (envlist_set(&env, *e, err) < 0)
			goto out;
	for (char **f = opts->env_files; f && *f; f++) {
		char *text = NULL;
		if (bx_read_file(*f, &text, NULL, err) < 0) {
			bx_fail(err, errno, "cannot read env file %s", *f);
			goto out;
		}
		/* parsed into its own list, then merged key by key */
		char **fenv = NULL;
		size_t fn = 0;
		int r = bx_envfile_parse(text, *f, getenv_fn, &fenv, &fn, err);
		free(text);
		for (size_t i = 0; r == 0 && i < fn; i++)
			r = envlist_set(&env, fenv[i], err);
		struct envlist parsed = {.v = fenv, .n = fn};
		envlist_free(&parsed);
		if (r < 0)
			goto out;
	}
	for (char **e = opts->env; e && *e; e++)
		if (envlist_set_flag(&env, *e, getenv_fn, err) < 0)
			goto out;
	if (opts->hostname) {
		char kv[300];
		snprintf(kv, sizeof(kv), "HOSTNAME=%s", opts->hostname);
		/* Docker sets HOSTNAME unless the user or image did */
		bool have = false;
		for (size_t i = 0; i < env.n; i++)
			if (!strncmp(env.v[i], "HOSTNAME=", 9))
				have = true;
		if (!have && envlist_set(&env, kv, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < env.n; i++)
		if (bx_spec_add_env(out, env.v[i], err) < 0)
			goto out;

	const char *cwd = opts->workdir ? opts->workdir : img->workdir;
	if (cwd && *cwd) {
		if (cwd[0] != '/') {
			bx_fail(err, 0, "invalid working directory '%s': it must be an absolute path", cwd);
			goto out;
		}
		if (!(out->cwd = strdup(cwd))) {
			bx_fail(err, ENOMEM, "out of memory");
			goto out;
		}
	}
	const char *user = opts->user ? opts->user : img->user;
	if (user && *user && !(out->user = strdup(user))) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (opts->hostname && !(out->hostname = strdup(opts->hostname))) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	out->stdin_open = opts->stdin_open;
	out->tty = opts->tty;
	rc = 0;
out:
	envlist_free(&env);
	return rc;
}
