/* Pure pieces of starting a process (exec.h). */
#include "exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

int bx_path_search(const char *name, const char *path_env, bx_exec_check_fn check, void *ud, char *out,
		   size_t out_size, struct bx_err *err)
{
	if (!name || !*name)
		return bx_fail_code(err, BX_EXIT_NOT_FOUND, 0, "exec: \"\": executable file not found in $PATH");
	if (strchr(name, '/')) {
		/* used as is, once it is known to be an executable file (Go's
		 * LookPath, hence runc: a stat error is quoted, anything else that
		 * is not executable is "permission denied") */
		if ((size_t)snprintf(out, out_size, "%s", name) >= out_size)
			return bx_exec_fail(err, name, ENAMETOOLONG);
		int why = check(out, ud);
		if (why == 0)
			return 0;
		out[0] = '\0';
		if (why == EACCES)
			return bx_exec_fail(err, name, why);
		return bx_fail_code(err, bx_exec_errno_code(why), 0, "exec: \"%s\": stat %s: %s", name, name,
				    bx_go_errno_text(why));
	}
	if (!path_env)
		path_env = BX_DEFAULT_PATH;
	const char *p = path_env;
	for (;;) {
		const char *c = strchr(p, ':');
		size_t dl = c ? (size_t)(c - p) : strlen(p);
		int n = dl ? snprintf(out, out_size, "%.*s/%s", (int)dl, p, name)
			   : snprintf(out, out_size, "./%s", name);
		if (n > 0 && (size_t)n < out_size && check(out, ud) == 0)
			return 0;
		if (!c)
			break;
		p = c + 1;
	}
	out[0] = '\0';
	return bx_fail_code(err, BX_EXIT_NOT_FOUND, 0, "exec: \"%s\": executable file not found in $PATH", name);
}

const char *bx_go_errno_text(int errnum)
{
	switch (errnum) {
	case ENOENT: return "no such file or directory";
	case ENOTDIR: return "not a directory";
	case EACCES: return "permission denied";
	case EPERM: return "operation not permitted";
	case ELOOP: return "too many levels of symbolic links";
	case ENAMETOOLONG: return "file name too long";
	case ENOEXEC: return "exec format error";
	case ETXTBSY: return "text file busy";
	case E2BIG: return "argument list too long";
	case ENOMEM: return "cannot allocate memory";
	case EISDIR: return "is a directory";
	case EIO: return "input/output error";
	default: return strerror(errnum);
	}
}

int bx_exec_errno_code(int errnum)
{
	switch (errnum) {
	case ENOENT:
	case ENOTDIR:
	case ENAMETOOLONG:
	case ELOOP:
		return BX_EXIT_NOT_FOUND;
	default: /* EACCES, ENOEXEC, EISDIR, EPERM, ETXTBSY, ... */
		return BX_EXIT_CANNOT_EXEC;
	}
}

int bx_exec_fail(struct bx_err *err, const char *name, int errnum)
{
	const char *what;
	switch (errnum) {
	case EACCES:
	case EISDIR:
	case EPERM:
		/* Docker reports a directory or a non-executable file alike */
		what = "permission denied";
		break;
	case ENOEXEC:
		what = "exec format error";
		break;
	default:
		what = bx_go_errno_text(errnum);
		break;
	}
	bx_fail_code(err, bx_exec_errno_code(errnum), 0, "exec: \"%s\": %s", name, what);
	if (err)
		err->errnum = errnum; /* kept for the caller; not appended to the message */
	return -1;
}

int bx_exit_code_from_status(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return BX_EXIT_ERROR;
}

const char *bx_env_get(char *const *env, const char *key)
{
	size_t kl = strlen(key);
	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, kl) == 0 && env[i][kl] == '=')
			return env[i] + kl + 1;
	return NULL;
}

char **bx_env_build(char *const *env, const char *home, char *home_buf, size_t home_buf_size)
{
	size_t n = 0;
	while (env && env[n])
		n++;
	char **out = calloc(n + 3, sizeof(*out));
	if (!out)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		/* a name given twice keeps its first place and its last value (runc's, Docker's) */
		const char *eq = strchr(env[i], '=');
		size_t kl = eq ? (size_t)(eq - env[i]) : strlen(env[i]);
		size_t j = 0;
		while (j < k && !(strncmp(out[j], env[i], kl) == 0 && (out[j][kl] == '=' || !out[j][kl])))
			j++;
		out[j] = env[i];
		if (j == k)
			k++;
	}
	out[k] = NULL;
	if (!bx_env_get(out, "PATH"))
		out[k++] = (char *)"PATH=" BX_DEFAULT_PATH;
	/* an empty HOME is filled as a missing one is (runc, so Docker too), in its place */
	const char *h = bx_env_get(out, "HOME");
	if ((!h || !*h) && home) {
		snprintf(home_buf, home_buf_size, "HOME=%s", home);
		size_t j = 0;
		while (j < k && strncmp(out[j], "HOME=", 5))
			j++;
		out[j] = home_buf;
		if (j == k)
			k++;
	}
	out[k] = NULL;
	return out;
}
