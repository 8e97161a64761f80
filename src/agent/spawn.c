/* Starting a process (main, exec and pty alike): fork, then in the child
 * set up the session, stdio, user, environment and cwd, and exec. A failure
 * in the child travels back through a CLOEXEC pipe (EOF there means exec
 * succeeded), so the parent knows the exit code and Docker's message. */
#include "agent.h"
#include "pure/exec.h"
#include "pure/user.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

struct child_report {
	int exit_code;
	int errnum;
	char msg[512];
};

static void close_if(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int exec_check(const char *path, void *ud)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return errno;
	if (!S_ISREG(st.st_mode))
		return EACCES;
	return access(path, X_OK) < 0 ? errno : 0;
}

/* The exit code a start failure reports: run's main keeps Docker run's
 * 125/126/127; an exec that cannot start is 126 whatever the cause (Docker's
 * daemon records 126 for every exec start failure). */
_Noreturn static void child_fail(int report_fd, const struct bx_err *e, bool main_process)
{
	int code = e->exit_code ? e->exit_code : BX_EXIT_ERROR;
	if (!main_process)
		code = BX_EXIT_CANNOT_EXEC;
	struct child_report r = {.exit_code = code, .errnum = e->errnum};
	memcpy(r.msg, e->msg, sizeof(r.msg) - 1);
	r.msg[sizeof(r.msg) - 1] = '\0';
	ssize_t w = write(report_fd, &r, sizeof(r)); /* < PIPE_BUF: atomic, never blocks */
	(void)w;
	_exit(r.exit_code);
}

/* In the child: everything after fork. Only returns through exec. */
_Noreturn static void child(const struct agent *ag, bool in_box, const struct bx_spec *spec, bool main_process,
			    int report_fd, int in_fd, int out_fd, int err_fd, const char *pty_slave,
			    const char *passwd_kept, const char *group_kept)
{
	struct bx_err e = {0};
	/* first: whatever this process does from here on counts against the box's limits */
	if (agent_cgroup_enter_box(ag, in_box, &e) < 0)
		child_fail(report_fd, &e, main_process);
	/* PID 1 blocks SIGCHLD/SIGTERM/SIGINT for its signalfd: undo for the child */
	sigset_t all;
	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);

	if (setsid() < 0) {
		bx_fail(&e, errno, "setsid");
		child_fail(report_fd, &e, main_process);
	}
	if (pty_slave) {
		int fd = open(pty_slave, O_RDWR);
		if (fd < 0 || ioctl(fd, TIOCSCTTY, 0) < 0) {
			bx_fail(&e, errno, "open pty %s", pty_slave);
			child_fail(report_fd, &e, main_process);
		}
		in_fd = out_fd = err_fd = fd;
	}
	if (dup2(in_fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(err_fd, 2) < 0) {
		bx_fail(&e, errno, "stdio");
		child_fail(report_fd, &e, main_process);
	}
	for (int fd = 0; fd < 3; fd++)
		fcntl(fd, F_SETFD, 0);

	/* what PID 1 kept (userdb.c), else read here */
	const char *passwd = passwd_kept ? passwd_kept : agent_slurp("/etc/passwd");
	const char *group = group_kept ? group_kept : agent_slurp("/etc/group");
	struct bx_user u;
	if (bx_user_resolve(spec->user, passwd ? passwd : "", group ? group : "", &u, &e) < 0)
		child_fail(report_fd, &e, main_process);

	/* the terminal belongs to the process's user, as runc (so Docker) leaves it;
	 * its group stays devpts's (tty) */
	if (pty_slave && fchown(0, u.uid, (gid_t)-1) < 0) {
		bx_fail(&e, errno, "chown %s", pty_slave);
		child_fail(report_fd, &e, main_process);
	}

	char home_kv[600];
	char **env = bx_env_build(spec->env, u.home, home_kv, sizeof(home_kv));
	if (!env) {
		bx_fail(&e, ENOMEM, "environment");
		child_fail(report_fd, &e, main_process);
	}

	const char *cwd = spec->cwd && *spec->cwd ? spec->cwd : "/";
	if (cwd[0] != '/') { /* runc's check and words */
		bx_fail(&e, 0, "Cwd must be an absolute path");
		child_fail(report_fd, &e, main_process);
	}
	/* Docker creates a missing working directory for run, never for exec (a
	 * build's RUN step, an exec into its shared VM, asks for it) */
	if ((main_process || spec->build_step) && agent_mkdir_p(cwd, 0755) < 0 && errno != EEXIST) {
		bx_fail(&e, errno, "mkdir %s", cwd);
		child_fail(report_fd, &e, main_process);
	}
	if (chdir(cwd) < 0) {
		bx_fail(&e, 0, "chdir to cwd (\"%s\") set in config.json failed: %s", cwd, bx_go_errno_text(errno));
		child_fail(report_fd, &e, main_process);
	}

	/* OCI additionalGids join the user's groups; rlimits are set while still
	 * root in the guest, so a hard limit may be raised (as runc does). An OCI
	 * process (exact) names its uid:gid, so, as under runc, its supplementary
	 * groups are its additionalGids alone (not its primary gid) */
	if (spec->exact)
		u.ngroups = 0;
	for (size_t i = 0; i < spec->ngroups && u.ngroups < BX_USER_MAX_GROUPS; i++)
		u.groups[u.ngroups++] = spec->groups[i];
	/* --group-add NAME: the box's /etc/group names it */
	for (size_t i = 0; i < spec->ngroup_names && u.ngroups < BX_USER_MAX_GROUPS; i++)
		if (bx_group_lookup(group ? group : "", spec->group_names[i], &u.groups[u.ngroups++], &e) < 0)
			child_fail(report_fd, &e, main_process);
	for (size_t i = 0; i < spec->nrlimits; i++) {
		const struct bx_spec_rlimit *r = &spec->rlimits[i];
		struct rlimit rl = {.rlim_cur = r->soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)r->soft,
				    .rlim_max = r->hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)r->hard};
		if (setrlimit((int)r->resource, &rl) < 0) {
			bx_fail(&e, errno, "error setting rlimit type %u (soft %llu, hard %llu)", (unsigned)r->resource,
				(unsigned long long)r->soft, (unsigned long long)r->hard);
			child_fail(report_fd, &e, main_process);
		}
	}
	if (agent_privs_before_user(spec, &e) < 0)
		child_fail(report_fd, &e, main_process);
	if (setgroups(u.ngroups, u.groups) < 0 || setgid(u.gid) < 0 || setuid(u.uid) < 0) {
		bx_fail(&e, errno, "set user %u:%u", (unsigned)u.uid, (unsigned)u.gid);
		child_fail(report_fd, &e, main_process);
	}
	if (agent_privs_after_user(spec, u.uid, &e) < 0)
		child_fail(report_fd, &e, main_process);

	/* a build's VM: main only keeps the box up while the steps run as execs;
	 * the signal that stops the box ends it (no handler: the default action) */
	if (main_process && spec->idle) {
		close(report_fd); /* started: what exec's close-on-exec would have said */
		for (;;)
			pause();
	}
	char path[4096];
	const char *name = spec->args[0];
	if (bx_path_search(name, bx_env_get(env, "PATH"), exec_check, NULL, path, sizeof(path), &e) < 0)
		child_fail(report_fd, &e, main_process);
	if (spec->no_new_privs && agent_seccomp_install(spec, &e) < 0)
		child_fail(report_fd, &e, main_process);
	execve(path, spec->args, env);
	bx_exec_fail(&e, name, errno);
	child_fail(report_fd, &e, main_process);
}

int agent_spawn(struct session *s, const struct bx_spec *spec, bool pty, struct spawn_result *res,
		struct bx_err *err)
{
	memset(res, 0, sizeof(*res));
	res->fd_in = res->fd_out = res->fd_err = -1;
	if (!spec->args || !spec->args[0])
		return bx_fail_code(err, BX_EXIT_ERROR, 0, "no command given");

	int rep[2] = {-1, -1}, in[2] = {-1, -1}, out[2] = {-1, -1}, errp[2] = {-1, -1};
	int master = -1;
	char slave[128] = "";
	if (pipe2(rep, O_CLOEXEC) < 0)
		goto fail;
	if (pty) {
		master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
		    ptsname_r(master, slave, sizeof(slave)) != 0)
			goto fail;
		struct winsize ws = {.ws_row = 24, .ws_col = 80};
		ioctl(master, TIOCSWINSZ, &ws);
	} else {
		if (spec->stdin_open) {
			if (pipe2(in, O_CLOEXEC) < 0)
				goto fail;
		} else {
			in[0] = open("/dev/null", O_RDONLY | O_CLOEXEC);
			if (in[0] < 0)
				goto fail;
		}
		if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
			goto fail;
	}

	const char *passwd = agent_userdb_text("/etc/passwd"), *group = agent_userdb_text("/etc/group");
	bool in_box;
	pid_t pid = agent_cgroup_fork(s->ag, &in_box);
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		close(rep[0]);
		child(s->ag, in_box, spec, s->kind == SESS_MAIN, rep[1], in[0], out[1], errp[1], pty ? slave : NULL, passwd,
		      group);
	}
	/* registered before anything else can run the reaper */
	s->pid = pid;
	s->started = true;
	res->pid = pid;
	close_if(&rep[1]);
	close_if(&in[0]);
	close_if(&out[1]);
	close_if(&errp[1]);

	/* Blocks only until the child has exec'd or failed: bounded by the child's
	 * own setup (a few file reads), and the result decides what we report. */
	struct child_report r;
	ssize_t n;
	do
		n = read(rep[0], &r, sizeof(r));
	while (n < 0 && errno == EINTR);
	close_if(&rep[0]);
	if (n == (ssize_t)sizeof(r)) {
		res->failed = true;
		res->err.exit_code = r.exit_code;
		res->err.errnum = r.errnum;
		r.msg[sizeof(r.msg) - 1] = '\0';
		memcpy(res->err.msg, r.msg, sizeof(r.msg));
	}

	if (pty) {
		res->fd_out = master;
		res->fd_in = fcntl(master, F_DUPFD_CLOEXEC, 3);
		set_nonblock(master);
	} else {
		res->fd_in = in[1];
		res->fd_out = out[0];
		res->fd_err = errp[0];
		set_nonblock(out[0]);
		set_nonblock(errp[0]);
		if (in[1] >= 0)
			set_nonblock(in[1]);
	}
	return 0;

fail:;
	int saved = errno;
	close_if(&rep[0]);
	close_if(&rep[1]);
	close_if(&in[0]);
	close_if(&in[1]);
	close_if(&out[0]);
	close_if(&out[1]);
	close_if(&errp[0]);
	close_if(&errp[1]);
	close_if(&master);
	return bx_fail_code(err, BX_EXIT_ERROR, saved, "cannot start process");
}
