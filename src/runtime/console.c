/* process.terminal: a host pty whose master goes to the caller over
 * --console-socket (SCM_RIGHTS, as runc does) and whose slave is the
 * monitor's stdio. The slave is raw: the guest has its own pty with the line
 * discipline, so the host side must pass bytes through untouched. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "rt.h"

static int send_master(const char *console_socket, int master, const char *name, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s", console_socket) < 0)
		return -1;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(sock);
		return bx_fail(err, e, "cannot connect to console socket %s", console_socket);
	}
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &master, sizeof(int));
	ssize_t r;
	while ((r = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	int e = errno;
	close(sock);
	return r < 0 ? bx_fail(err, e, "cannot send the terminal to console socket %s", console_socket) : 0;
}

int rt_console_make(const char *console_socket, struct bx_err *err)
{
	if (!console_socket || !*console_socket)
		return bx_fail(err, 0, "cannot allocate tty if boxvm-runtime will detach without setting console socket");
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		return bx_fail(err, errno, "cannot open a pseudo-terminal");
	char name[64];
	if (grantpt(master) < 0 || unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0) {
		int e = errno;
		close(master);
		return bx_fail(err, e, "cannot set up a pseudo-terminal");
	}
	int slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0) {
		int e = errno;
		close(master);
		return bx_fail(err, e, "cannot open %s", name);
	}
	struct termios t;
	if (tcgetattr(slave, &t) == 0) {
		cfmakeraw(&t);
		tcsetattr(slave, TCSANOW, &t);
	}
	int rc = send_master(console_socket, master, name, err);
	close(master);
	if (rc < 0) {
		close(slave);
		return -1;
	}
	return slave;
}

int rt_console_adopt(int slave, struct bx_err *err)
{
	if (ioctl(slave, TIOCSCTTY, 0) < 0)
		return bx_fail(err, errno, "cannot make the terminal the controlling one");
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			return bx_fail(err, errno, "dup2");
	if (slave > 2)
		close(slave);
	return 0;
}
