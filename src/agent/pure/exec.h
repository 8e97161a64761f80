/* Pure pieces of starting a process: PATH search, the environment, and the
 * mapping of failures and wait statuses to Docker's exit codes. */
#ifndef BOXVM_AGENT_EXEC_H
#define BOXVM_AGENT_EXEC_H

#include <stdbool.h>
#include <stddef.h>

#include "../../common/err.h"

#define BX_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/* Tells whether `path` is an executable regular file: 0 yes, else an errno.
 * The agent passes a stat/access-based check; tests pass a fake. */
typedef int (*bx_exec_check_fn)(const char *path, void *ud);

/* Find the program to execute, as Go's exec.LookPath (which Docker uses):
 * a name containing '/' is used as is when `check` accepts it (else its
 * error: `exec: "N": stat N: no such file or directory`, or `permission
 * denied`); otherwise each PATH entry is tried in
 * order ("" means "."), and the first executable regular file wins.
 * Returns 0 and fills out, or -1 with err (127, Docker's message). */
int bx_path_search(const char *name, const char *path_env, bx_exec_check_fn check, void *ud, char *out,
		   size_t out_size, struct bx_err *err);

/* An errno as Go's syscall package words it (runc's messages, hence
 * Docker's, quote these): "no such file or directory", ... */
const char *bx_go_errno_text(int errnum);

/* Exit code for an execve() failure: 127 not found, 126 cannot execute. */
int bx_exec_errno_code(int errnum);
/* Fill err with Docker's wording for an execve() failure of `name`. */
int bx_exec_fail(struct bx_err *err, const char *name, int errnum);

/* Exit code for a wait status: exit status, or 128+N for signal N. */
int bx_exit_code_from_status(int status);

/* Value of KEY in a NULL-terminated "KEY=VALUE" list, or NULL. */
const char *bx_env_get(char *const *env, const char *key);
/* New NULL-terminated env (malloc'd array; strings shared with `env` or
 * static/home): env with each name once (first place, last value), plus PATH
 * (default) when absent and HOME (`home`) when absent or empty.
 * Returns NULL on allocation failure. */
char **bx_env_build(char *const *env, const char *home, char *home_buf, size_t home_buf_size);

#endif
