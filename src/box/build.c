/* The build loop: stages, steps, the cache, RUN in a box (build.h). */
#include "build.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build_copy.h"
#include "build_vm.h"
#include "commit.h"
#include "control.h"
#include "make.h"
#include "remove.h"
#include "../client/shim_client.h"
#include "../client/tty_keys.h"
#include "../common/cleanup.h"
#include "../common/treecopy.h"
#include "../image/build_platform.h"
#include "../image/dockerfile.h"
#include "../image/image_create.h"
#include "../image/instr.h"
#include "../image/layercache.h"
#include "../store/buildcache.h"
#include "../store/image_gc.h"
#include "../store/state.h"

/* one stage's state between steps */
struct stage {
	char image[BX_DIGEST_SIZE]; /* "": scratch with nothing on it yet */
	json_t *config;             /* the image config's "config" */
	char **args;                /* this stage's ARGs with their values, "K=V" */
	size_t nargs;
};

struct build {
	const struct bx_paths *p;
	const struct bx_build_opts *o;
	struct bx_dockerfile df;
	struct bx_build_context ctx;
	char **meta;        /* ARGs before the first FROM, "K=V" */
	size_t nmeta;
	bool *arg_used;     /* per --build-arg: some ARG declared it */
	size_t nsteps;      /* counted for "Step i/N" */
	struct stage st;
	char stage_name[128];       /* the current stage's AS name ("" none) */
	struct done_stage {         /* finished stages, for COPY --from and FROM NAME */
		char name[128];
		char image[BX_DIGEST_SIZE];
	} done[64];
	size_t ndone;
	struct bx_build_vm vm;   /* the stage's shared VM while its tree is the stage's */
	bool box_per_run;        /* no overlayfs upper dir to take steps from: a fresh box per RUN */
	bool run_failed;         /* a RUN exited non-zero: its code is the build's, its words Docker's */
	struct bx_build_box_opts box_opts; /* every RUN box's network, hosts, resources */
	bool in_triggers;   /* running a base image's ONBUILD triggers: one " ---> ID" for them all, after */
};

/* the stage that just ended, kept by index and name */
static int stage_end(struct build *b, struct bx_err *err)
{
	if (!b->st.config)
		return 0; /* before the first FROM */
	if (b->ndone >= sizeof(b->done) / sizeof(b->done[0]))
		return bx_fail(err, E2BIG, "more than %zu build stages", sizeof(b->done) / sizeof(b->done[0]));
	snprintf(b->done[b->ndone].name, sizeof(b->done[0].name), "%s", b->stage_name);
	snprintf(b->done[b->ndone].image, sizeof(b->done[0].image), "%s", b->st.image);
	b->ndone++;
	return 0;
}

/* a finished stage named (case-insensitive) or numbered ref; NULL: none */
static const struct done_stage *stage_named(struct build *b, const char *ref)
{
	for (size_t i = 0; i < b->ndone; i++)
		if (b->done[i].name[0] && !strcasecmp(b->done[i].name, ref))
			return &b->done[i];
	char *end;
	unsigned long k = strtoul(ref, &end, 10);
	if (*ref && !*end && k < b->ndone)
		return &b->done[k];
	return NULL;
}

static void say(struct build *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct build *b, const char *fmt, ...)
{
	if (b->o->quiet)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (b->o->to_fd)
		vdprintf(b->o->out_fd, fmt, ap);
	else
		vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

/* the shared VM ends; Docker's words for the box it ran the steps in (not
 * when the build failed: Docker's output stops at the failing step) */
static void vm_end(struct build *b, bool failed)
{
	if (!b->vm.up)
		return;
	char id[16];
	snprintf(id, sizeof(id), "%.12s", b->vm.rec.id);
	struct bx_err e2 = {0};
	if (bx_build_vm_end(b->p, &b->vm, &e2) < 0)
		fprintf(stderr, "boxvm: cannot remove the build box %s: %s\n", id, e2.msg);
	else if (!failed)
		say(b, "Removing intermediate container %s\n", id);
}

/* --build-arg NAME's value: "K=V" as given, or K from our environment; NULL: not given */
static const char *build_arg(struct build *b, const char *name, size_t nl)
{
	for (size_t i = 0; b->o->build_args && b->o->build_args[i]; i++) {
		const char *a = b->o->build_args[i];
		if (strncmp(a, name, nl) || (a[nl] != '=' && a[nl]))
			continue;
		b->arg_used[i] = true;
		if (a[nl] == '=')
			return a + nl + 1;
		char key[256];
		snprintf(key, sizeof(key), "%.*s", (int)nl, name);
		return getenv(key);
	}
	return NULL;
}

/* the variables a step's text is substituted from: ARGs, then ENV (which wins) */
static int step_vars(struct build *b, char ***vars, size_t *n, struct bx_err *err)
{
	*vars = NULL;
	*n = 0;
	for (size_t i = 0; i < b->st.nargs; i++)
		if (bx_strv_push(vars, n, b->st.args[i], err) < 0)
			return -1;
	json_t *env = json_object_get(b->st.config, "Env"), *v;
	size_t i;
	json_array_foreach(env, i, v) if (json_is_string(v) && bx_strv_push(vars, n, json_string_value(v), err) < 0) return -1;
	return 0;
}

/* 1 and the image when an earlier build made this step from this parent (store/buildcache.h) */
static int cache_find(struct build *b, const char *created_by, char id[BX_DIGEST_SIZE], struct bx_err *err)
{
	char key[65];
	if (b->o->no_cache || !b->st.image[0])
		return 0;
	if (bx_buildcache_key(b->st.image, created_by, key, err) < 0)
		return -1;
	return bx_buildcache_get(b->p, key, id, err);
}

static void cache_store(struct build *b, const char *parent, const char *created_by, const char *id)
{
	char key[65];
	struct bx_err e2;
	/* a cache that could not be written is only slower */
	if (parent[0] && bx_buildcache_key(parent, created_by, key, &e2) == 0)
		bx_buildcache_put(b->p, key, id);
}

/* a new image on the stage's: its layer (NULL: config only) and history line */
static int commit_step(struct build *b, struct bx_new_layer *layer, const char *created_by, struct bx_err *err)
{
	struct bx_image parent = {0};
	if (b->st.image[0] && bx_image_lookup(b->p, b->st.image, &parent, err) < 0)
		return -1;
	struct bx_image_new n = {.parent = b->st.image[0] ? &parent : NULL, .config = b->st.config,
				 .created_by = created_by, .layer = layer};
	char id[BX_DIGEST_SIZE];
	int rc = bx_image_create(b->p, &n, id, err);
	bx_image_free(&parent);
	if (rc < 0)
		return -1;
	cache_store(b, b->st.image, created_by, id);
	snprintf(b->st.image, sizeof(b->st.image), "%s", id);
	return 0;
}

/* the stage's image as it now is: config and all */
static int use_image(struct build *b, const char *id, struct bx_err *err)
{
	struct bx_image img;
	if (bx_image_lookup(b->p, id, &img, err) < 0)
		return -1;
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int rc = bx_blob_read(b->p, img.id, BX_CONFIG_MAX, &buf, &len, err);
	if (rc == 0) {
		_cleanup_json_ json_t *doc = json_loadb(buf, len, 0, NULL);
		json_t *c = json_object_get(doc, "config");
		json_decref(b->st.config);
		b->st.config = json_is_object(c) ? json_deep_copy(c) : json_object();
		snprintf(b->st.image, sizeof(b->st.image), "%s", img.id);
	}
	bx_image_free(&img);
	return rc;
}

static void stage_reset(struct stage *s)
{
	json_decref(s->config);
	for (size_t i = 0; i < s->nargs; i++)
		free(s->args[i]);
	free(s->args);
	memset(s, 0, sizeof(*s));
}

/* FROM --platform=P: substituted from the ARGs before the first FROM, as
 * Docker does, then held to the one platform boxvm builds */
static int from_platform(struct build *b, const char *plat, struct bx_err *err)
{
	_cleanup_free_ char *text = NULL;
	if (bx_df_expand(plat, b->df.escape, b->meta, b->nmeta, &text, err) < 0)
		return bx_wrap(err, "FROM --platform=%s", plat);
	if (!*text) /* $BUILDPLATFORM and $TARGETPLATFORM are BuildKit's: the classic builder has none */
		return bx_fail(err, 0, "FROM --platform=%s: the platform is empty: declare it with an ARG before the first "
				       "FROM", plat);
	if (bx_build_platform_check(text, err) < 0)
		return bx_wrap(err, "FROM --platform=%s", plat);
	return 0;
}

/* FROM IMAGE: pulled first with --pull (Docker's "always attempt to pull a
 * newer version"), pulled when it is not here, as Docker's builder does */
static int from_image(struct build *b, const char *ref, struct bx_err *err)
{
	if (b->o->pull && b->o->pull_always && b->o->pull(b->p, ref, b->o->quiet, err) < 0)
		return -1;
	if (use_image(b, ref, err) == 0)
		return 0;
	if (err->errnum != ENOENT || !b->o->pull || b->o->pull_always)
		return -1;
	if (b->o->pull(b->p, ref, b->o->quiet, err) < 0)
		return -1;
	return use_image(b, ref, err);
}

static int do_step(struct build *b, const struct bx_df_step *s, struct bx_err *err);

/* The base image's ONBUILD triggers, run right after its FROM as Docker
 * does, then gone from the child's config (Docker does not inherit them).
 * An image's config is hostile: every trigger is read by the bounded
 * Dockerfile parser, none may be FROM, MAINTAINER or ONBUILD, and all are
 * checked before the first one runs (Docker checks each just before it). */
static int run_triggers(struct build *b, const char *base, struct bx_err *err)
{
	json_t *ob = json_object_get(b->st.config, "OnBuild");
	if (!json_is_array(ob) || !json_array_size(ob)) {
		json_object_del(b->st.config, "OnBuild");
		return 0;
	}
	_cleanup_json_ json_t *triggers = json_incref(ob);
	json_object_del(b->st.config, "OnBuild");
	size_t n = json_array_size(triggers);
	if (n > BX_DOCKERFILE_MAX_STEPS)
		return bx_fail(err, E2BIG, "%s has %zu ONBUILD triggers, more than %u: is it a real image?", base, n,
			       BX_DOCKERFILE_MAX_STEPS);
	struct bx_dockerfile *dfs = calloc(n, sizeof(*dfs));
	if (!dfs)
		return bx_fail(err, ENOMEM, "out of memory");
	int rc = -1;
	size_t i = 0;
	say(b, "# Executing %zu build trigger%s\n", n, n == 1 ? "" : "s");
	for (; i < n; i++) {
		json_t *t = json_array_get(triggers, i);
		if (!json_is_string(t)) {
			bx_fail(err, 0, "not a string: is %s a real image?", base);
			goto bad;
		}
		if (bx_dockerfile_parse(json_string_value(t), json_string_length(t), &dfs[i], err) < 0)
			goto bad;
		for (size_t j = 0; j < dfs[i].n; j++)
			if (bx_df_trigger_allowed(dfs[i].steps[j].in.keyword, err) < 0)
				goto bad;
	}
	char escape = b->df.escape;
	b->in_triggers = true;
	rc = 0;
	for (i = 0; i < n && rc == 0; i++) {
		b->df.escape = dfs[i].escape; /* a trigger is substituted with its own escape character, as Docker */
		for (size_t j = 0; j < dfs[i].n && rc == 0; j++)
			if (do_step(b, &dfs[i].steps[j], err) < 0)
				rc = b->run_failed ? -1 : bx_wrap(err, "ONBUILD trigger %zu of %s", i + 1, base);
	}
	b->df.escape = escape;
	b->in_triggers = false;
	goto out;
bad:
	bx_wrap(err, "ONBUILD trigger %zu of %s", i + 1, base);
out:
	for (size_t k = 0; k < n; k++)
		bx_dockerfile_free(&dfs[k]);
	free(dfs);
	return rc;
}

static int do_from(struct build *b, const struct bx_df_step *s, struct bx_err *err)
{
	_cleanup_free_ char *text = NULL;
	if (bx_df_expand(s->in.rest, b->df.escape, b->meta, b->nmeta, &text, err) < 0)
		return -1;
	char **w = NULL;
	size_t nw = 0;
	if (bx_instr_words(text, &w, &nw, err) < 0)
		return -1;
	int rc = -1;
	char plat[64];
	if (nw != 1 && !(nw == 3 && !strcasecmp(w[1], "AS"))) {
		bx_fail(err, 0, "FROM requires either one or three arguments");
		goto out;
	}
	if (bx_df_flag(s, "platform", plat, sizeof(plat), err) == 1 && from_platform(b, plat, err) < 0)
		goto out;
	vm_end(b, false);
	if (stage_end(b, err) < 0)
		goto out;
	stage_reset(&b->st);
	b->st.config = json_object();
	snprintf(b->stage_name, sizeof(b->stage_name), "%s", nw == 3 ? w[2] : "");
	const struct done_stage *prev = stage_named(b, w[0]);
	if (prev && !prev->image[0]) {
		say(b, " ---> \n");
		rc = 0;
		goto out;
	}
	if (!strcmp(w[0], "scratch")) {
		say(b, " ---> \n");
		rc = 0;
		goto out;
	}
	if (prev ? use_image(b, prev->image, err) < 0 : from_image(b, w[0], err) < 0)
		goto out;
	if (run_triggers(b, w[0], err) < 0)
		goto out;
	say(b, " ---> %.12s\n", b->st.image + 7);
	rc = 0;
out:
	for (size_t i = 0; i < nw; i++)
		free(w[i]);
	free(w);
	return rc;
}

/* ARG NAME[=default]: the --build-arg value wins, then the default, then a
 * global ARG's (before FROM) */
static int do_arg(struct build *b, const struct bx_df_step *s, bool meta, struct bx_err *err)
{
	char **vars;
	size_t nv;
	if (step_vars(b, &vars, &nv, err) < 0)
		return -1;
	if (meta) {
		bx_strv_free(vars);
		vars = b->meta;
		nv = b->nmeta;
	}
	_cleanup_free_ char *text = NULL;
	int r = bx_df_expand(s->in.rest, b->df.escape, vars, nv, &text, err);
	if (!meta)
		bx_strv_free(vars);
	if (r < 0)
		return -1;
	if (!*text || strchr(text, ' '))
		return bx_fail(err, 0, "ARG requires exactly one argument");
	char *eq = strchr(text, '=');
	size_t nl = eq ? (size_t)(eq - text) : strlen(text);
	const char *val = build_arg(b, text, nl);
	if (!val && eq)
		val = eq + 1;
	if (!val && !meta) {
		for (size_t i = b->nmeta; i-- > 0;)
			if (!strncmp(b->meta[i], text, nl) && b->meta[i][nl] == '=') {
				val = b->meta[i] + nl + 1;
				break;
			}
	}
	if (!val)
		return 0; /* declared without a value: not set */
	_cleanup_free_ char *kv = NULL;
	if (asprintf(&kv, "%.*s=%s", (int)nl, text, val) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	return meta ? bx_strv_push(&b->meta, &b->nmeta, kv, err) : bx_strv_push(&b->st.args, &b->st.nargs, kv, err);
}

/* "|N K=V... " before a RUN's command when ARGs are set, as Docker writes
 * them into history (and so into the cache key) */
static char *run_created_by(struct build *b, const char *cmdline)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	if (b->st.nargs) {
		fprintf(f, "|%zu", b->st.nargs);
		for (size_t i = 0; i < b->st.nargs; i++)
			fprintf(f, " %s", b->st.args[i]);
		fputc(' ', f);
	}
	fputs(cmdline, f);
	fclose(f);
	return s;
}

static char *join_words(json_t *a)
{
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return NULL;
	size_t i;
	json_t *v;
	json_array_foreach(a, i, v) fprintf(f, "%s%s", i ? " " : "", json_string_value(v));
	fclose(f);
	return s;
}

static int remove_box(const struct bx_paths *p, const char *id, struct bx_err *err)
{
	struct bx_box_record rec;
	if (bx_state_lookup(p, id, &rec, err) < 0)
		return -1;
	return bx_box_remove(p, id, &rec, true, true, err);
}

/* A RUN that exited non-zero: Docker's words, its code the build's */
static void fail_run(struct build *b, json_t *cmd, int code, struct bx_err *err)
{
	_cleanup_free_ char *line = join_words(cmd);
	b->run_failed = true;
	if (b->o->run_code)
		*b->o->run_code = code;
	bx_fail_code(err, code, 0, "The command '%s' returned a non-zero code: %d", line ? line : "", code);
}

/* RUN: a box of the stage's image runs the command; its changes become the
 * step's layer */
static int run_in_box(struct build *b, json_t *cmd, const char *created_by, char id[BX_DIGEST_SIZE],
		      struct bx_err *err)
{
	_cleanup_free_ struct bx_vmspec *vmp = calloc(1, sizeof(*vmp)); /* large; before any goto (cleanup) */
	struct bx_image img;
	if (!b->st.image[0])
		return bx_fail(err, 0, "RUN on an empty scratch stage: there is no /bin/sh to run it (COPY files in first)");
	if (bx_image_lookup(b->p, b->st.image, &img, err) < 0)
		return -1;
	char **command = NULL, **env = NULL;
	size_t ncmd = 0, nenv = 0, i;
	json_t *v;
	int rc = -1, start_lock = -1;
	json_array_foreach(cmd, i, v) if (bx_strv_push(&command, &ncmd, json_string_value(v), err) < 0) goto out_free;
	for (i = 0; i < b->st.nargs; i++)
		if (bx_strv_push(&env, &nenv, b->st.args[i], err) < 0)
			goto out_free;
	struct bx_run_opts ro = {.entrypoint = "", .command = command, .env = env,
				 .workdir = json_string_value(json_object_get(b->st.config, "WorkingDir")),
				 .user = json_string_value(json_object_get(b->st.config, "User"))};
	if (ro.workdir && !*ro.workdir)
		ro.workdir = NULL;
	if (ro.user && !*ro.user)
		ro.user = NULL;
	if (!vmp) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out_free;
	}
	struct bx_vmspec *const vm = vmp;
	if (bx_build_box_make(b->p, &img, b->st.image, &ro, &b->box_opts, false, true, vm, &start_lock, err) < 0)
		goto out_free;
	say(b, " ---> Running in %.12s\n", vm->id);
	/* -q: the step's output goes nowhere (Docker's quiet build) */
	int saved_out = -1, saved_errfd = -1;
	if (b->o->quiet) {
		int null = open("/dev/null", O_WRONLY | O_CLOEXEC);
		saved_out = dup(1);
		saved_errfd = dup(2);
		if (null >= 0) {
			dup2(null, 1);
			dup2(null, 2);
			close(null);
		}
	}
	int code = bx_shim_start(vm, err);
	if (start_lock >= 0)
		close(start_lock);
	start_lock = -1;
	if (code == 0) {
		struct bx_detach keys;
		bx_detach_parse(BX_DETACH_DEFAULT, &keys, NULL);
		code = bx_box_attach(vm, false, &keys, err);
	}
	fflush(stdout);
	if (saved_out >= 0) {
		dup2(saved_out, 1);
		dup2(saved_errfd, 2);
		close(saved_out);
		close(saved_errfd);
	}
	struct bx_err e2 = {0};
	if (code != 0) {
		if (code > 0) {
			fail_run(b, cmd, code, err);
		}
		if (remove_box(b->p, vm->id, &e2) < 0)
			fprintf(stderr, "boxvm: cannot remove the build box %.12s: %s\n", vm->id, e2.msg);
		goto out_free;
	}
	struct bx_commit_opts co = {.pause = false, .config = b->st.config, .created_by = created_by};
	int crc = bx_box_commit(b->p, vm->id, &co, id, err);
	say(b, "Removing intermediate container %.12s\n", vm->id);
	if (remove_box(b->p, vm->id, crc < 0 ? &e2 : err) < 0 && crc == 0)
		goto out_free;
	rc = crc;
out_free:
	bx_strv_free(command);
	bx_strv_free(env);
	bx_image_free(&img);
	return rc;
}

/* A RUN step's process: the command, the stage's user and working
 * directory, its ARGs and ENV (ENV wins over an ARG of the same name) */
static int step_spec(struct build *b, json_t *cmd, struct bx_spec *spec, struct bx_err *err)
{
	size_t i;
	json_t *v, *envs = json_object_get(b->st.config, "Env");
	json_array_foreach(cmd, i, v) if (bx_spec_add_arg(spec, json_string_value(v), err) < 0) return -1;
	for (i = 0; i < b->st.nargs; i++) {
		size_t kl = strcspn(b->st.args[i], "=");
		bool shadowed = false;
		size_t k;
		json_array_foreach(envs, k, v) {
			const char *e = json_string_value(v);
			shadowed |= e && !strncmp(e, b->st.args[i], kl) && e[kl] == '=';
		}
		if (!shadowed && bx_spec_add_env(spec, b->st.args[i], err) < 0)
			return -1;
	}
	json_array_foreach(envs, i, v) if (json_is_string(v) && bx_spec_add_env(spec, json_string_value(v), err) < 0) return -1;
	const char *wd = json_string_value(json_object_get(b->st.config, "WorkingDir"));
	const char *user = json_string_value(json_object_get(b->st.config, "User"));
	if ((wd && *wd && bx_spec_set_cwd(spec, wd, err) < 0) || (user && *user && bx_spec_set_user(spec, user, err) < 0))
		return -1;
	return 0;
}

/* RUN in the stage's shared VM (booted now if it is not up): 1 when the
 * store's boxes cannot share one (then run_in_box), else 0 or -1 */
static int run_in_vm(struct build *b, json_t *cmd, const char *created_by, char id[BX_DIGEST_SIZE], struct bx_err *err)
{
	if (!b->st.image[0])
		return bx_fail(err, 0, "RUN on an empty scratch stage: there is no /bin/sh to run it (COPY files in first)");
	if (!b->vm.up) {
		int r = bx_build_vm_boot(b->p, b->st.image, &b->box_opts, &b->vm, err);
		if (r <= 0) {
			b->box_per_run = r == 0;
			return r < 0 ? -1 : 1;
		}
	}
	say(b, " ---> Running in %.12s\n", b->vm.rec.id);
	struct bx_spec spec;
	bx_spec_init(&spec);
	int rc = -1, out = -1;
	if (step_spec(b, cmd, &spec, err) < 0)
		goto done;
	fflush(stdout);
	if (b->o->quiet && (out = open("/dev/null", O_WRONLY | O_CLOEXEC)) < 0) { /* Docker's quiet build */
		bx_fail(err, errno, "cannot open /dev/null");
		goto done;
	}
	int code = bx_build_vm_run(&b->vm, &spec, out >= 0 ? out : b->o->to_fd ? b->o->out_fd : 1,
				   out >= 0 ? out : b->o->to_fd ? b->o->out_fd : 2, err);
	if (code != 0) {
		if (code > 0) {
			fail_run(b, cmd, code, err);
		}
		goto done;
	}
	struct bx_upper_snap after;
	struct bx_new_layer layer;
	if (bx_build_vm_layer(b->p, &b->vm, &after, &layer, err) < 0)
		goto done;
	char parent[BX_DIGEST_SIZE];
	snprintf(parent, sizeof(parent), "%s", b->st.image);
	if (commit_step(b, &layer, created_by, err) < 0) {
		bx_upper_snap_free(&after);
		goto done;
	}
	snprintf(id, BX_DIGEST_SIZE, "%s", b->st.image);
	snprintf(b->st.image, sizeof(b->st.image), "%s", parent); /* the caller moves the stage on */
	bx_build_vm_step_done(&b->vm, &after, id);
	rc = 0;
done:
	if (out >= 0)
		close(out);
	bx_spec_free(&spec);
	return rc;
}

/* a COPY/ADD's sources and destination, after substitution */
static int do_copy(struct build *b, const struct bx_df_step *s, const char *text, struct bx_new_layer *layer,
		   char **created_by, struct bx_err *err)
{
	struct bx_instr in;
	_cleanup_free_ char *line = NULL;
	if (asprintf(&line, "%s %s", s->in.keyword, text) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	if (bx_instr_parse(line, &in, err) < 0)
		return -1;
	char **words = in.json ? in.args : NULL;
	size_t nw = in.json ? in.nargs : 0;
	int rc = -1;
	char from[256], chown[256];
	_cleanup_close_ int base = -1, lock = -1, from_lock = -1;
	_cleanup_free_ char *full = NULL;
	struct bx_build_context from_ctx = {.root_fd = -1};
	const struct bx_build_context *ctx = &b->ctx;
	char base_chain[BX_DIGEST_SIZE] = "";
	if (!in.json && bx_instr_words(in.rest, &words, &nw, err) < 0)
		goto out;
	if (nw < 2) {
		bx_fail(err, 0, "%s requires at least two arguments, but only one was provided. Destination could not be "
				"determined.", s->in.keyword);
		goto out;
	}
	struct bx_image img = {0};
	if (b->st.image[0] && bx_image_lookup(b->p, b->st.image, &img, err) < 0)
		goto out;
	if (img.nlayers) { /* the stage's tree: its /etc/passwd and the parents' modes */
		char dir[PATH_MAX];
		bool built;
		int r = bx_layercache_get(b->p, &img, dir, sizeof(dir), base_chain, &lock, &built, err);
		if (r == 0 && (base = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0)
			r = bx_fail(err, errno, "cannot open %s", dir);
		if (r < 0) {
			bx_image_free(&img);
			goto out;
		}
	}
	bx_image_free(&img);
	/* --from=STAGE|IMAGE: the sources are that image's tree, not the context */
	if (bx_df_flag(s, "from", from, sizeof(from), err) == 1) {
		const struct done_stage *ds = stage_named(b, from);
		struct bx_image fimg = {0};
		if (ds && !ds->image[0]) {
			bx_fail(err, 0, "COPY --from=%s: that stage has no files (an empty scratch stage)", from);
			goto out;
		}
		if (bx_image_lookup(b->p, ds ? ds->image : from, &fimg, err) < 0)
			goto out;
		char dir[PATH_MAX] = "", chain[BX_DIGEST_SIZE];
		bool built;
		char **ids = NULL;
		size_t nids = 0;
		/* the stage's own tree is locked already: a second lock on it would wait forever */
		int r = fimg.nlayers ? bx_image_diff_ids(b->p, &fimg, &ids, err)
				     : bx_fail(err, 0, "COPY --from=%s: that image has no files", from);
		for (; r == 0 && ids && ids[nids]; nids++)
			;
		if (r == 0)
			r = bx_chain_id(ids, nids, chain, err);
		bx_strv_free(ids);
		if (r == 0 && base >= 0 && !strcmp(chain, base_chain))
			from_ctx.root_fd = dup(base);
		else if (r == 0 && bx_layercache_get(b->p, &fimg, dir, sizeof(dir), chain, &from_lock, &built, err) < 0)
			r = -1;
		else if (r == 0)
			from_ctx.root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		bx_image_free(&fimg);
		if (r < 0 || from_ctx.root_fd < 0) {
			if (r == 0)
				bx_fail(err, errno, "cannot open the tree of %s", from);
			goto out;
		}
		ctx = &from_ctx;
	}
	struct bx_copy_req req = {.srcs = words, .nsrcs = nw - 1, .add = !strcmp(s->in.keyword, "ADD"), .base_fd = base};
	if (bx_df_flag(s, "chown", chown, sizeof(chown), err) == 1 && bx_build_chown(base, chown, &req.uid, &req.gid, err) < 0)
		goto out;
	/* a relative destination is under WORKDIR; a trailing '/' says "a directory" */
	const char *dest = words[nw - 1];
	const char *wd = json_string_value(json_object_get(b->st.config, "WorkingDir"));
	if (asprintf(&full, "%s%s%s", dest[0] == '/' ? "" : (wd && *wd ? wd : "/"),
		     dest[0] == '/' || (wd && *wd && wd[strlen(wd) - 1] == '/') || !(wd && *wd) ? "" : "/", dest) < 0) {
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	if (!strcmp(dest, ".") || (strlen(dest) >= 2 && !strcmp(dest + strlen(dest) - 2, "/."))) {
		full[strlen(full) - 1] = '/'; /* "." is the directory itself */
	}
	req.dest = full;
	const char *kind;
	if (bx_build_copy_layer(b->p, ctx, &req, layer, &kind, err) < 0)
		goto out;
	if (asprintf(created_by, "/bin/sh -c #(nop) %s %s:%s in %s ", s->in.keyword, kind, layer->diff_id + 7, dest) < 0) {
		bx_blob_writer_abort(&layer->blob);
		bx_fail(err, ENOMEM, "out of memory");
		goto out;
	}
	rc = 0;
out:
	if (from_ctx.root_fd >= 0)
		close(from_ctx.root_fd);
	if (!in.json && words) {
		for (size_t i = 0; i < nw; i++)
			free(words[i]);
		free(words);
	}
	bx_instr_free(&in);
	return rc;
}

/* Docker expands variables in these instructions (not RUN, CMD, ENTRYPOINT,
 * nor ONBUILD: its trigger is kept as written, substituted when it runs) */
static bool expands(const char *k)
{
	static const char *const v[] = {"ADD", "COPY", "ENV", "EXPOSE", "LABEL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR"};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcmp(k, v[i]))
			return true;
	return false;
}

static int do_step(struct build *b, const struct bx_df_step *s, struct bx_err *err)
{
	const char *k = s->in.keyword;
	if (!strcmp(k, "FROM"))
		return do_from(b, s, err);
	if (!b->st.config)
		return bx_fail(err, 0, "no build stage in current context");
	_cleanup_free_ char *text = NULL, *created_by = NULL;
	char **vars;
	size_t nv;
	if (step_vars(b, &vars, &nv, err) < 0)
		return -1;
	int r = expands(k) ? bx_df_expand(s->in.rest, b->df.escape, vars, nv, &text, err)
			   : ((text = strdup(s->in.rest)) ? 0 : bx_fail(err, ENOMEM, "out of memory"));
	bx_strv_free(vars);
	if (r < 0)
		return -1;
	struct bx_new_layer layer = {.blob.fd = -1};
	bool has_layer = false, run = false;
	_cleanup_json_ json_t *cmd = NULL;
	if (!strcmp(k, "COPY") || !strcmp(k, "ADD")) {
		if (do_copy(b, s, text, &layer, &created_by, err) < 0)
			return -1;
		has_layer = true;
	} else if (!strcmp(k, "RUN")) {
		struct bx_instr in;
		if (bx_instr_parse(s->in.json ? s->in.rest : text, &in, err) < 0)
			return -1;
		bx_instr_free(&in);
		if (s->in.json) {
			cmd = json_array();
			for (size_t i = 0; i < s->in.nargs; i++)
				json_array_append_new(cmd, json_string(s->in.args[i]));
		} else {
			json_t *shell = json_object_get(b->st.config, "Shell");
			cmd = json_is_array(shell) && json_array_size(shell) ? json_deep_copy(shell)
									     : json_pack("[s,s]", "/bin/sh", "-c");
			json_array_append_new(cmd, json_string(text));
		}
		_cleanup_free_ char *line = join_words(cmd);
		if (!line || !(created_by = run_created_by(b, line)))
			return bx_fail(err, ENOMEM, "out of memory");
		run = true;
	} else {
		if (!strcmp(k, "ARG")) {
			if (do_arg(b, s, false, err) < 0)
				return -1;
		} else {
			struct bx_instr in;
			_cleanup_free_ char *line = NULL;
			if (asprintf(&line, "%s %s", k, text) < 0)
				return bx_fail(err, ENOMEM, "out of memory");
			if (bx_instr_parse(line, &in, err) < 0)
				return -1;
			r = bx_instr_apply_build(b->st.config, &in, s->flags, err);
			if (r == 0 && (!strcmp(k, "ENV") || !strcmp(k, "LABEL"))) { /* history says the pairs, as Docker */
				char *pairs = bx_instr_pairs_text(&in, err);
				if (!pairs)
					r = -1;
				free(text);
				text = pairs;
			}
			bx_instr_free(&in);
			if (r < 0)
				return -1;
		}
		/* Docker's history line: "#(nop) " then the instruction as it
		 * prints it (two spaces but for WORKDIR, COPY and ADD) */
		_cleanup_free_ char *flags = NULL;
		size_t fl = 0;
		FILE *ff = open_memstream(&flags, &fl);
		if (!ff)
			return bx_fail(err, ENOMEM, "out of memory");
		for (const char *f = s->flags; f && *f;) { /* HEALTHCHECK's: part of what the step made */
			size_t l = strcspn(f, "\n");
			fprintf(ff, "--%.*s ", (int)l, f);
			f += l + (f[l] == '\n');
		}
		fclose(ff);
		if (asprintf(&created_by, "/bin/sh -c #(nop) %s%s %s%s", strcmp(k, "WORKDIR") ? " " : "", k, flags, text) < 0)
			return bx_fail(err, ENOMEM, "out of memory");
	}
	char id[BX_DIGEST_SIZE];
	int hit = cache_find(b, created_by, id, err);
	if (hit < 0) {
		if (has_layer)
			bx_blob_writer_abort(&layer.blob);
		return -1;
	}
	if (hit) {
		if (has_layer)
			bx_blob_writer_abort(&layer.blob);
		say(b, " ---> Using cache\n");
		if (use_image(b, id, err) < 0)
			return -1;
	} else if (run) {
		char parent[BX_DIGEST_SIZE];
		snprintf(parent, sizeof(parent), "%s", b->st.image);
		int r = b->box_per_run ? 1 : run_in_vm(b, cmd, created_by, id, err);
		if (r < 0 || (r == 1 && run_in_box(b, cmd, created_by, id, err) < 0))
			return -1;
		cache_store(b, parent, created_by, id);
		snprintf(b->st.image, sizeof(b->st.image), "%s", id);
	} else if (commit_step(b, has_layer ? &layer : NULL, created_by, err) < 0) {
		return -1;
	}
	/* the shared VM's tree is the stage's only while RUN or config steps
	 * made it (a VOLUME: a RUN's changes under it are lost, as Docker's) */
	if (hit || has_layer || !strcmp(k, "VOLUME"))
		vm_end(b, false);
	if (!b->in_triggers)
		say(b, " ---> %.12s\n", b->st.image + 7);
	return 0;
}

/* a --label K=V list as the LABEL step Docker adds to the last stage */
static int labels_step(struct build *b, struct bx_err *err)
{
	if (!b->o->labels || !b->o->labels[0])
		return 0;
	char *s = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&s, &len);
	if (!f)
		return bx_fail(err, ENOMEM, "out of memory");
	fputs("LABEL", f);
	for (size_t i = 0; b->o->labels[i]; i++) {
		const char *l = b->o->labels[i], *eq = strchr(l, '=');
		size_t kl = eq ? (size_t)(eq - l) : strlen(l);
		fprintf(f, " \"%.*s\"=\"", (int)kl, l);
		for (const char *c = eq ? eq + 1 : ""; *c; c++)
			fprintf(f, "%s%c", *c == '"' || *c == '\\' ? "\\" : "", *c);
		fputc('"', f);
	}
	fclose(f);
	struct bx_df_step *ns = realloc(b->df.steps, (b->df.n + 1) * sizeof(*ns));
	if (!ns) {
		free(s);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	b->df.steps = ns;
	memset(&ns[b->df.n], 0, sizeof(ns[0]));
	int r = bx_instr_parse(s, &ns[b->df.n].in, err);
	free(s);
	if (r < 0)
		return -1;
	ns[b->df.n].line = 0;
	b->df.n++;
	return 0;
}

/* a Dockerfile's text from fd, at most BX_DOCKERFILE_MAX bytes */
static int read_bounded(int fd, const char *what, char **text, size_t *len, struct bx_err *err)
{
	size_t cap = 0;
	*text = NULL;
	*len = 0;
	for (;;) {
		if (*len + 4096 + 1 > cap) {
			if (cap > BX_DOCKERFILE_MAX + 8192)
				return bx_fail(err, E2BIG, "the Dockerfile is larger than %u bytes", BX_DOCKERFILE_MAX);
			char *n = realloc(*text, cap = cap * 2 + 8192);
			if (!n)
				return bx_fail(err, ENOMEM, "out of memory");
			*text = n;
		}
		ssize_t r = read(fd, *text + *len, 4096);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bx_fail(err, errno, "cannot read the Dockerfile from %s", what);
		if (!r)
			break;
		*len += (size_t)r;
	}
	(*text)[*len] = '\0';
	return 0;
}

static int read_dockerfile(const struct bx_build_opts *o, int context_fd, char **text, size_t *len, struct bx_err *err)
{
	char path[PATH_MAX];
	if (o->dockerfile && !strcmp(o->dockerfile, "-"))
		return read_bounded(0, "stdin", text, len, err);
	if (o->dockerfile_in_context) {
		/* resolved inside the context, symlinks included (Docker's FollowSymlinkInScope): a
		 * context from stdin cannot name a host file as its Dockerfile */
		const char *name = o->dockerfile ? o->dockerfile : "Dockerfile";
		_cleanup_close_ int fd = bx_open_in_root(context_fd, name, O_RDONLY | O_NOCTTY | O_NONBLOCK);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
			return bx_fail(err, 0, "Cannot locate specified Dockerfile: %s", name);
		return read_bounded(fd, name, text, len, err);
	}
	if (o->dockerfile)
		snprintf(path, sizeof(path), "%s", o->dockerfile);
	else if (bx_path_join(path, sizeof(path), err, "%s/Dockerfile", o->context) < 0)
		return -1;
	struct stat st;
	if (stat(path, &st) < 0)
		return bx_fail(err, errno, "unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat %s: "
					  "no such file or directory", path);
	if (st.st_size > BX_DOCKERFILE_MAX)
		return bx_fail(err, E2BIG, "the Dockerfile is larger than %u bytes", BX_DOCKERFILE_MAX);
	return bx_read_file(path, text, len, err);
}

/* --target: the steps after the target stage are dropped before anything
 * runs, so "Step i/N" counts what is built (Docker's classic builder still
 * builds every stage before the target, needed or not: so does this) */
static int keep_to_target(struct build *b, struct bx_err *err)
{
	size_t end;
	if (bx_df_target_end(&b->df, b->o->target, &end, err) < 0)
		return -1;
	for (size_t i = end; i < b->df.n; i++) {
		bx_instr_free(&b->df.steps[i].in);
		free(b->df.steps[i].flags);
	}
	b->df.n = end;
	return 0;
}

int bx_build(const struct bx_paths *p, const struct bx_build_opts *o, char id[BX_DIGEST_SIZE], struct bx_err *err)
{
	struct build b = {.p = p, .o = o, .ctx.root_fd = -1, .vm.upper_fd = -1,
			  .box_opts = {.network = o->network, .add_hosts = o->add_hosts, .res = o->res}};
	_cleanup_free_ char *text = NULL;
	_cleanup_close_ int ifd = -1, cache_hold = -1;
	size_t len, nargs = 0;
	int rc = -1;
	for (; o->build_args && o->build_args[nargs]; nargs++)
		;
	b.arg_used = calloc(nargs + 1, sizeof(bool));
	if (!b.arg_used)
		return bx_fail(err, ENOMEM, "out of memory");
	if (o->platform && bx_build_platform_check(o->platform, err) < 0) {
		bx_wrap(err, "--platform");
		goto out;
	}
	/* a prune meanwhile would take the untagged image the build stands on */
	if ((cache_hold = bx_buildcache_hold(p, err)) < 0)
		goto out;
	struct stat st;
	if (stat(o->context, &st) < 0 || !S_ISDIR(st.st_mode)) {
		bx_fail(err, 0, "unable to prepare context: path \"%s\" not found", o->context);
		goto out;
	}
	if ((b.ctx.root_fd = open(o->context, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		bx_fail(err, errno, "cannot open the build context %s", o->context);
		goto out;
	}
	if (read_dockerfile(o, b.ctx.root_fd, &text, &len, err) < 0 || bx_dockerfile_parse(text, len, &b.df, err) < 0 ||
	    (o->target && keep_to_target(&b, err) < 0))
		goto out;
	ifd = openat(b.ctx.root_fd, ".dockerignore", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (ifd >= 0) {
		char *buf = malloc(BX_DOCKERIGNORE_MAX + 1);
		ssize_t n = buf ? read(ifd, buf, BX_DOCKERIGNORE_MAX + 1) : -1;
		int r = n < 0 ? bx_fail(err, errno, "cannot read .dockerignore") : bx_ignore_parse(buf, (size_t)n, &b.ctx.ignore, err);
		free(buf);
		if (r < 0)
			goto out;
	}
	if (labels_step(&b, err) < 0)
		goto out;
	size_t i = 0;
	for (; i < b.df.n && !strcmp(b.df.steps[i].in.keyword, "ARG"); i++) {
		say(&b, "Step %zu/%zu : %s %s\n", i + 1, b.df.n,
		    b.df.steps[i].written[0] ? b.df.steps[i].written : "ARG", b.df.steps[i].in.rest);
		if (do_arg(&b, &b.df.steps[i], true, err) < 0)
			goto out;
	}
	for (; i < b.df.n; i++) {
		const struct bx_df_step *s = &b.df.steps[i];
		say(&b, "Step %zu/%zu : %s", i + 1, b.df.n, s->written[0] ? s->written : s->in.keyword);
		for (const char *f = s->flags; f && *f;) {
			size_t fl = strcspn(f, "\n");
			say(&b, " --%.*s", (int)fl, f);
			f += fl + (f[fl] == '\n');
		}
		say(&b, " %s\n", s->in.rest);
		if (do_step(&b, s, err) < 0) {
			if (s->line && !b.run_failed)
				bx_wrap(err, "Dockerfile line %u", s->line);
			goto out;
		}
	}
	vm_end(&b, false);
	if (!b.st.image[0]) {
		bx_fail(err, 0, "No image was generated. Is your Dockerfile empty?");
		goto out;
	}
	bool warned = false;
	for (size_t k = 0; k < nargs; k++)
		if (!b.arg_used[k]) {
			size_t kl = strcspn(o->build_args[k], "=");
			say(&b, "%s%.*s", warned ? " " : "[Warning] One or more build-args [", (int)kl, o->build_args[k]);
			warned = true;
		}
	if (warned)
		say(&b, "] were not consumed\n");
	for (size_t k = 0; o->tags && o->tags[k]; k++)
		if (bx_image_tag(p, b.st.image, o->tags[k], err) < 0)
			goto out;
	say(&b, "Successfully built %.12s\n", b.st.image + 7);
	for (size_t k = 0; o->tags && o->tags[k]; k++) {
		char norm[512];
		if (bx_image_ref_normalize(o->tags[k], norm, sizeof(norm), NULL) == 0)
			say(&b, "Successfully tagged %s\n", norm);
	}
	snprintf(id, BX_DIGEST_SIZE, "%s", b.st.image);
	rc = 0;
out:
	vm_end(&b, true);
	stage_reset(&b.st);
	bx_dockerfile_free(&b.df);
	bx_ignore_free(&b.ctx.ignore);
	bx_strv_free(b.meta);
	free(b.arg_used);
	if (b.ctx.root_fd >= 0)
		close(b.ctx.root_fd);
	return rc;
}
