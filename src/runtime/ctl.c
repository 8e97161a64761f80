/* The client end of the monitor's control socket: one request line
 * ("start", "kill N"), one reply line ("ok" or "error: ..."). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rt.h"

int rt_ctl_request(const struct rt_container *c, const char *req, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s", c->ctl_sock) < 0)
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return bx_fail(err, errno, "socket");
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(fd);
		return bx_fail(err, e == ECONNREFUSED || e == ENOENT ? 0 : e, "container \"%s\" is not running", c->id);
	}
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s\n", req);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return bx_fail(err, 0, "container \"%s\" is not running", c->id);
	}
	/* start boots the VM's supervisor: seconds at most; this is a hang guard */
	size_t have = 0;
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, 300000);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		ssize_t k = recv(fd, line + have, sizeof(line) - 1 - have, 0);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			break;
		have += (size_t)k;
		if (memchr(line, '\n', have) || have >= sizeof(line) - 1)
			break;
	}
	close(fd);
	line[have] = '\0';
	char *nl = strchr(line, '\n');
	if (nl)
		*nl = '\0';
	if (!strcmp(line, "ok"))
		return 0;
	if (!strncmp(line, "error: ", 7))
		return bx_fail(err, 0, "%s", line + 7);
	return bx_fail(err, 0, "container \"%s\": its monitor exited without answering", c->id);
}
