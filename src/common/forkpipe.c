/* fork() with a pipe between parent and child (forkpipe.h). */
#include "forkpipe.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

pid_t bx_fork_pipe(int *fd, bool child_writes, struct bx_err *err)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return bx_fail(err, errno, "pipe");
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(p[0]);
		close(p[1]);
		return bx_fail(err, e, "fork");
	}
	bool writer = (pid == 0) == child_writes; /* this process holds the write end */
	close(p[writer ? 0 : 1]);
	*fd = p[writer ? 1 : 0];
	return pid;
}

bool bx_fork_detached(void)
{
	pid_t pid = fork();
	if (pid != 0) {
		if (pid > 0)
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
		return false;
	}
	setsid();
	if (fork() != 0)
		_exit(0);
	int null = open("/dev/null", O_RDWR);
	if (null >= 0) {
		dup2(null, 0);
		dup2(null, 1);
		dup2(null, 2);
	}
	close_range(3, ~0U, 0);
	return true;
}
