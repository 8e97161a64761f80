/* Docker's rules for turning an image config plus `run` flags into the
 * process to start (pure logic, unit-tested):
 *   - --entrypoint replaces the image Entrypoint ("" clears it) and then the
 *     image Cmd is dropped unless a command is given;
 *   - a command replaces the image Cmd;
 *   - args = entrypoint + cmd; none at all is an error;
 *   - env: image Env, then --env-file lines, then -e, later keys replacing
 *     earlier ones in place; "-e NAME" without '=' copies the caller's value
 *     (and is skipped when the caller has none);
 *   - -w replaces WorkingDir, -u replaces User. */
#ifndef BOXVM_RUNCONFIG_H
#define BOXVM_RUNCONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "image.h"
#include "../proto/spec.h"

struct bx_run_opts {
	const char *entrypoint; /* NULL: not given; "" clears */
	char **command;         /* NULL-terminated; NULL/empty: not given */
	char **env;             /* -e values in order, NULL-terminated (may be NULL) */
	char **env_files;       /* --env-file paths in order, NULL-terminated (may be NULL) */
	const char *workdir;
	const char *user;
	const char *hostname;
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

/* Build the main process spec. env file contents are read through read_file
 * (tests inject it). */
int bx_runconfig_build(const struct bx_image_config *img, const struct bx_run_opts *opts, bx_getenv_fn getenv_fn,
		       struct bx_spec *out, struct bx_err *err);

#endif
