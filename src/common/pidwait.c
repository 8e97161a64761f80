/* Signalling processes and waiting for their exit (pidwait.h). */
#include "pidwait.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

void bx_signal_and_wait(const int *pids, int n, int sig, int guard_ms)
{
	int *fds = n > 0 ? calloc((size_t)n, sizeof(int)) : NULL;
	if (!fds)
		return;
	int k = 0;
	for (int i = 0; i < n; i++) {
		int fd = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (fd < 0)
			continue;
		syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0);
		fds[k++] = fd;
	}
	for (int i = 0; i < k; i++) {
		struct pollfd pf = {.fd = fds[i], .events = POLLIN};
		while (poll(&pf, 1, guard_ms) < 0 && errno == EINTR)
			;
		close(fds[i]);
	}
	free(fds);
}
