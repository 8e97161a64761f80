/* PID 1 reaping. Every orphan in the box is re-parented to us, so SIGCHLD
 * (via a signalfd, so it is just another fd in the loop) triggers a sweep:
 * peek with WNOWAIT, reap a session's process into its session (the status
 * is its exit code), and reap anything else at once so no zombie lingers.
 * Session pids are registered right after fork, before the loop can run a
 * sweep, and the agent is single-threaded: no race between fork and peek. */
#include "agent.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

int agent_signals_init(struct bx_err *err)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	/* PID 1 ignores termination requests (the host ends the VM instead) */
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return bx_fail(err, errno, "sigprocmask");
	/* writes to a closed stdin pipe must fail with EPIPE, never kill us */
	signal(SIGPIPE, SIG_IGN);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "signalfd");
	return fd;
}

static struct session *session_by_pid(struct agent *ag, pid_t pid)
{
	for (struct session *s = ag->sessions; s; s = s->next)
		if (s->pid == pid)
			return s;
	return NULL;
}

void agent_reap(struct agent *ag)
{
	for (;;) {
		siginfo_t si;
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOWAIT | WNOHANG) < 0) {
			if (errno == EINTR)
				continue;
			return; /* ECHILD: nothing left */
		}
		if (si.si_pid == 0)
			return;
		int status = 0;
		pid_t pid;
		do
			pid = waitpid(si.si_pid, &status, 0); /* a zombie already: does not block */
		while (pid < 0 && errno == EINTR);
		if (pid <= 0)
			continue;
		struct session *s = session_by_pid(ag, pid);
		if (s)
			session_exited(s, status);
		else
			agent_info("reaped orphan %d", (int)pid);
	}
}
