/* Docker's rules for turning an image config plus `run` flags into the process to start (runconfig.h). */
#include "runconfig.h"
#include "ulimits.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "../common/paths.h"

#define BX_DEFAULT_PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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

static ssize_t envlist_find(const struct envlist *l, const char *kv)
{
	size_t kl = key_len(kv);
	for (size_t i = 0; i < l->n; i++)
		if (key_len(l->v[i]) == kl && !strncmp(l->v[i], kv, kl))
			return (ssize_t)i;
	return -1;
}

/* replace the entry with kv's key in place, or append */
static int envlist_set(struct envlist *l, const char *kv, struct bx_err *err)
{
	char *dup = strdup(kv);
	if (!dup)
		return bx_fail(err, ENOMEM, "out of memory");
	ssize_t at = envlist_find(l, kv);
	if (at >= 0) {
		free(l->v[at]);
		l->v[at] = dup;
		return 0;
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

static void envlist_unset(struct envlist *l, const char *key)
{
	ssize_t at = envlist_find(l, key);
	if (at < 0)
		return;
	free(l->v[at]);
	memmove(&l->v[at], &l->v[at + 1], (l->n - (size_t)at) * sizeof(*l->v)); /* with the NULL */
	l->n--;
}

/* "-e NAME=V" as is; "-e NAME" takes the caller's value, or stays a bare
 * NAME (Docker records it so, and it then unsets NAME in the process). */
static int envlist_set_flag(struct envlist *l, const char *item, bx_getenv_fn getenv_fn, struct bx_err *err)
{
	if (!*item || *item == '=')
		return bx_fail(err, EINVAL, "invalid environment variable '%s': expected NAME=VALUE or NAME", item);
	const char *v = strchr(item, '=') || !getenv_fn ? NULL : getenv_fn(item);
	if (!v)
		return envlist_set(l, item, err);
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

/* the user's variables (env files, then -e) into l */
static int user_env(const struct bx_run_opts *opts, bx_getenv_fn getenv_fn, struct envlist *l, struct bx_err *err)
{
	for (char **f = opts->env_files; f && *f; f++) {
		char *text = NULL;
		if (bx_read_file(*f, &text, NULL, err) < 0)
			return bx_fail(err, errno, "cannot read env file %s", *f);
		/* parsed into its own list, then merged key by key */
		char **fenv = NULL;
		size_t fn = 0;
		int r = bx_envfile_parse(text, *f, getenv_fn, &fenv, &fn, err);
		free(text);
		for (size_t i = 0; r == 0 && i < fn; i++)
			r = envlist_set(l, fenv[i], err);
		struct envlist parsed = {.v = fenv, .n = fn};
		envlist_free(&parsed);
		if (r < 0)
			return -1;
	}
	for (char **e = opts->env; e && *e; e++)
		if (envlist_set_flag(l, *e, getenv_fn, err) < 0)
			return -1;
	return 0;
}

/* Docker's whitelist (moby's ValidateSysctl), and a key that can only name
 * a file under /proc/sys */
static int sysctl_check(const char *kv, struct bx_err *err)
{
	static const char *const keys[] = {"kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
					   "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced"};
	const char *eq = strchr(kv, '=');
	size_t kl = eq ? (size_t)(eq - kv) : 0;
	bool ok = kl > 0 && (!strncmp(kv, "net.", 4) || !strncmp(kv, "fs.mqueue.", 10));
	for (size_t i = 0; kl && !ok && i < sizeof(keys) / sizeof(keys[0]); i++)
		ok = strlen(keys[i]) == kl && !strncmp(kv, keys[i], kl);
	for (size_t i = 0; ok && i < kl; i++)
		ok = (kv[i] >= 'a' && kv[i] <= 'z') || (kv[i] >= 'A' && kv[i] <= 'Z') || (kv[i] >= '0' && kv[i] <= '9') ||
		     kv[i] == '_' || kv[i] == '-' || (kv[i] == '.' && kv[i + 1] != '.');
	if (!ok)
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--sysctl\" flag: sysctl '%s' is not whitelisted", kv,
			       kv);
	return 0;
}

json_t *bx_sysctls_json(char **sysctls)
{
	if (!sysctls || !*sysctls)
		return json_null();
	json_t *o = json_object();
	for (char **s = sysctls; s && *s; s++) {
		const char *eq = strchr(*s, '=');
		if (!eq || sysctl_check(*s, NULL) < 0)
			continue;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)(eq - *s), *s);
		json_object_set_new(o, key, json_string(eq + 1));
	}
	return o;
}

int bx_run_opts_check(const struct bx_run_opts *opts, bx_getenv_fn getenv_fn, struct bx_err *err)
{
	for (char **s = opts->sysctls; s && *s; s++)
		if (sysctl_check(*s, err) < 0)
			return -1;
	struct envlist l = {0};
	int rc = user_env(opts, getenv_fn, &l, err);
	envlist_free(&l);
	return rc < 0 ? rc : bx_ulimits_apply(opts->ulimits, NULL, err);
}

static bool strv_empty(char **v)
{
	return !v || !v[0];
}

static int strv_copy(char *const *v, char ***out, struct bx_err *err)
{
	size_t n = 0;
	while (v && v[n])
		n++;
	*out = NULL;
	if (!v)
		return 0;
	char **c = calloc(n + 1, sizeof(*c));
	if (!c)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (!(c[i] = strdup(v[i]))) {
			bx_strv_free(c);
			return bx_fail(err, ENOMEM, "out of memory");
		}
	*out = c;
	return 0;
}

/* Config.Entrypoint and Config.Cmd as Docker records them: --entrypoint is
 * one word ("" records none) and then the image's Cmd is not taken. */
static int record(const struct bx_image_config *img, const struct bx_run_opts *opts, const struct envlist *env,
		  struct bx_run_record *rec, struct bx_err *err)
{
	char *ep[] = {(char *)opts->entrypoint, NULL};
	char *const *entrypoint = opts->entrypoint ? (*opts->entrypoint ? ep : NULL) : img->entrypoint;
	char *const *cmd = !strv_empty(opts->command) ? opts->command : opts->entrypoint ? NULL : img->cmd;
	if (strv_copy(env->v, &rec->env, err) < 0 || strv_copy(entrypoint, &rec->entrypoint, err) < 0 ||
	    strv_copy(cmd, &rec->cmd, err) < 0) {
		bx_run_record_free(rec);
		return -1;
	}
	return 0;
}

void bx_run_record_free(struct bx_run_record *rec)
{
	bx_strv_free(rec->env);
	bx_strv_free(rec->entrypoint);
	bx_strv_free(rec->cmd);
	memset(rec, 0, sizeof(*rec));
}

int bx_runconfig_build(const struct bx_image_config *img, const struct bx_run_opts *opts, bx_getenv_fn getenv_fn,
		       struct bx_spec *out, struct bx_run_record *rec, struct bx_err *err)
{
	int rc = -1;
	struct envlist env = {0}, proc = {0};

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

	/* Config.Env: the user's variables (env files, then -e), then the
	 * image's that they don't name. Docker keeps a name given twice once,
	 * in no fixed place; here at its first place with its last value. */
	if (user_env(opts, getenv_fn, &env, err) < 0)
		goto out;
	for (char **e = img->env; e && *e; e++)
		if (envlist_find(&env, *e) < 0 && envlist_set(&env, *e, err) < 0)
			goto out;
	/* the process's: Docker's defaults (PATH, HOSTNAME, a terminal's TERM),
	 * each replaced in place by Config.Env, which a bare NAME unsets */
	if (envlist_set(&proc, BX_DEFAULT_PATH_ENV, err) < 0)
		goto out;
	if (opts->hostname) {
		char kv[300];
		snprintf(kv, sizeof(kv), "HOSTNAME=%s", opts->hostname);
		if (envlist_set(&proc, kv, err) < 0)
			goto out;
	}
	if (opts->tty && envlist_set(&proc, "TERM=xterm", err) < 0)
		goto out;
	for (size_t i = 0; i < env.n; i++) {
		if (!strchr(env.v[i], '='))
			envlist_unset(&proc, env.v[i]);
		else if (envlist_set(&proc, env.v[i], err) < 0)
			goto out;
	}
	for (size_t i = 0; i < proc.n; i++)
		if (bx_spec_add_env(out, proc.v[i], err) < 0)
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
	if (bx_ulimits_apply(opts->ulimits, out, err) < 0)
		goto out;
	for (char **s = opts->sysctls; s && *s; s++)
		if (sysctl_check(*s, err) < 0 || bx_spec_add_sysctl(out, *s, err) < 0)
			goto out;
	if (rec && record(img, opts, &env, rec, err) < 0)
		goto out;
	rc = 0;
out:
	envlist_free(&env);
	envlist_free(&proc);
	return rc;
}
