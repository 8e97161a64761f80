/* The client end of the monitor's control socket: one request line
 * ("start", "kill N"), one reply line ("ok" or "error: ..."). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/reply.h"
#include "../common/unixsock.h"
#include "rt.h"

int rt_ctl_request(const struct rt_container *c, const char *req, struct bx_err *err)
{
	_cleanup_close_ int fd = bx_unix_connect(c->ctl_sock, err);
	if (fd < 0) {
		int e = err->errnum;
		return bx_fail(err, e == ECONNREFUSED || e == ENOENT ? 0 : e, "container \"%s\" is not running", c->id);
	}
	char line[2048];
	int n = snprintf(line, sizeof(line), "%s\n", req);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n)
		return bx_fail(err, 0, "container \"%s\" is not running", c->id);
	/* start boots the VM's supervisor: seconds at most; this is a hang guard */
	bx_reply_read(fd, line, sizeof(line), 300000);
	char silent[400];
	snprintf(silent, sizeof(silent), "container \"%.300s\": its monitor exited without answering", c->id);
	return bx_reply_check(line, silent, err);
}
