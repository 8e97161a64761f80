/* Docker's rules for turning an image config plus `run` flags into the
 * process to start (pure logic, unit-tested):
 *   - --entrypoint replaces the image Entrypoint ("" clears it) and then the
 *     image Cmd is dropped unless a command is given;
 *   - a command replaces the image Cmd;
 *   - args = entrypoint + cmd; none at all is an error;
 *   - Config.Env: --env-file lines, then -e (a key given again keeps its
 *     first place and takes the later value), then the image's Env entries
 *     whose keys they don't name; "-e NAME" without '=' copies the caller's
 *     value, or stays a bare NAME when the caller has none;
 *   - the process's env: PATH (Docker's default), HOSTNAME and, with a
 *     terminal, TERM=xterm, each replaced in place by a Config.Env entry
 *     with the same key; the other entries follow in order, and a bare NAME
 *     unsets NAME;
 *   - -w replaces WorkingDir, -u replaces User;
 *   - --ulimit gives the process its resource limits (ulimits.h);
 *   - --sysctl KEY=VALUE: only Docker's namespaced ones (kernel.msg*,
 *     kernel.sem, kernel.shm*, fs.mqueue.*, net.*), set before main. */
#ifndef BOXVM_RUNCONFIG_H
#define BOXVM_RUNCONFIG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "../image/image.h"
#include "../proto/spec.h"

struct bx_run_opts {
	const char *entrypoint; /* NULL: not given; "" clears */
	char **command;         /* NULL-terminated; NULL/empty: not given */
	char **env;             /* -e values in order, NULL-terminated (may be NULL) */
	char **env_files;       /* --env-file paths in order, NULL-terminated (may be NULL) */
	const char *workdir;
	const char *user;
	const char *hostname;
	char **ulimits;         /* --ulimit TYPE=SOFT[:HARD] in order, NULL-terminated (may be NULL; ulimits.h) */
	char **sysctls;         /* --sysctl KEY=VALUE in order, NULL-terminated (may be NULL) */
	bool stdin_open;
	bool tty;
};

/* Resolve "NAME" (no '=') from the caller's environment. */
typedef const char *(*bx_getenv_fn)(const char *name);

/* Parse the text of an env file (Docker's format: KEY=VALUE per line, '#'
 * comments and blank lines ignored, a bare KEY copied from the caller's env)
 * appending to *env / *n. */
int bx_envfile_parse(const char *text, const char *fname, bx_getenv_fn getenv_fn, char ***env, size_t *n,
		     struct bx_err *err);

/* What Docker records in the box's Config for the same flags (inspect). */
struct bx_run_record {
	char **env;        /* Config.Env (NULL: none) */
	char **entrypoint; /* Config.Entrypoint: --entrypoint as one word, else the image's (NULL: null) */
	char **cmd;        /* Config.Cmd: the command, else the image's unless --entrypoint was given */
};
void bx_run_record_free(struct bx_run_record *rec);

/* What Docker's client checks of these flags before anything else: each -e
 * well-formed and each --env-file readable and well-formed. */
int bx_run_opts_check(const struct bx_run_opts *opts, bx_getenv_fn getenv_fn, struct bx_err *err);

/* HostConfig.Sysctls as Docker records them: {"KEY": "VALUE"} (the last of
 * a key), null when none. */
json_t *bx_sysctls_json(char **sysctls);

/* Build the main process spec, and the record when rec is not NULL
 * (bx_run_record_free it). */
int bx_runconfig_build(const struct bx_image_config *img, const struct bx_run_opts *opts, bx_getenv_fn getenv_fn,
		       struct bx_spec *out, struct bx_run_record *rec, struct bx_err *err);

#endif
