/* fork() with a pipe between parent and child (forkpipe.h). */
#include "forkpipe.h"

#include <errno.h>
#include <fcntl.h>
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
