/* AF_UNIX stream sockets between boxvm's own processes (CLI, shim, runtime) (unixsock.h). */
#include "unixsock.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"

int bx_unix_connect(const char *path, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s", path) < 0)
		return -1;
	_cleanup_close_ int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	while (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		if (errno != EINTR)
			return bx_fail(err, errno, "cannot connect to %s", path);
	return BX_TAKE_FD(sock);
}

int bx_unix_listen(const char *path, int backlog, int sock_flags, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s", path) < 0)
		return -1;
	unlink(path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | sock_flags, 0);
	if (fd < 0)
		return bx_fail(err, errno, "socket");
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0600) < 0 || listen(fd, backlog) < 0)
		return bx_fail(err, errno, "cannot listen on %s", path);
	return BX_TAKE_FD(fd);
}

#define BX_MAX_PASSED_FDS 8

int bx_unix_send_fds(int sock, const void *data, size_t len, const int *fds, size_t nfds, struct bx_err *err)
{
	if (nfds == 0 || nfds > BX_MAX_PASSED_FDS || len == 0)
		return bx_fail(err, EINVAL, "cannot pass %zu descriptors", nfds);
	struct iovec iov = {.iov_base = (void *)data, .iov_len = len};
	union {
		char buf[CMSG_SPACE(sizeof(int) * BX_MAX_PASSED_FDS)];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = u.buf,
		.msg_controllen = CMSG_SPACE(sizeof(int) * nfds),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
	memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	ssize_t r;
	while ((r = sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR)
		;
	if (r < 0)
		return bx_fail(err, errno, "cannot pass descriptors");
	return 0;
}

ssize_t bx_unix_recv_fds(int sock, void *buf, size_t cap, int *fds, size_t nfds, struct bx_err *err)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * BX_MAX_PASSED_FDS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = {.iov_base = buf, .iov_len = cap};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
	ssize_t n;
	size_t have = 0;
	for (size_t i = 0; i < nfds; i++)
		fds[i] = -1;
	while ((n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return bx_fail(err, errno, "cannot receive a message");
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int got;
			memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			if (have < nfds)
				fds[have++] = got;
			else
				close(got); /* more than asked for: not ours to keep */
		}
	}
	return n;
}

ssize_t bx_unix_recv_fd(int sock, void *buf, size_t cap, int *fd, struct bx_err *err)
{
	return bx_unix_recv_fds(sock, buf, cap, fd, 1, err);
}
