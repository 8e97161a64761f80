/* The CLI side of a box's shim (shim_client.h). */
#include "shim_client.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/boxid.h"
#include "../common/forkpipe.h"
#include "../common/paths.h"
#include "../common/reply.h"
#include "../common/safetext.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "../proto/msg.h"

int bx_shim_sync_wait(int sync, const char *id, struct bx_err *err)
{
	char line[2048], silent[128];
	bx_reply_read(sync, line, sizeof(line), -1);
	if (!strncmp(line, "error: ", 7))
		bx_reply_drain(sync); /* the shim exits right after an error: its EOF says it is gone */
	close(sync);
	snprintf(silent, sizeof(silent), "box %.12s: its supervisor (boxvm-shim) exited without starting", id);
	return bx_reply_check(line, silent, err);
}

int bx_shim_spawn(const struct bx_vmspec *vm, bool pool, struct bx_err *err)
{
	char shim[PATH_MAX], vmjson[PATH_MAX];
	if (bx_path_join(shim, sizeof(shim), err, "%s/boxvm-shim", vm->libexec) < 0 ||
	    bx_path_join(vmjson, sizeof(vmjson), err, "%s/vm.json", vm->box_dir) < 0)
		return -1;
	int sync;
	pid_t pid = bx_fork_pipe(&sync, true, err);
	if (pid < 0)
		return -1;
	if (pid == 0) {
		/* first child: new session, then fork the shim so it is re-parented
		 * away from the CLI and outlives it */
		setsid();
		pid_t g = fork();
		if (g != 0)
			_exit(g < 0 ? 1 : 0);
		int fd = dup(sync); /* without O_CLOEXEC: the shim inherits it */
		char fdarg[16];
		snprintf(fdarg, sizeof(fdarg), "%d", fd);
		int devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		if (pool)
			execl(shim, shim, "--pool", "--sync-fd", fdarg, vmjson, (char *)NULL);
		else
			execl(shim, shim, "--sync-fd", fdarg, vmjson, (char *)NULL);
		dprintf(fd, "error: cannot run %s: %s\n", shim, strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	return bx_shim_sync_wait(sync, vm->id, err);
}

int bx_shim_start(const struct bx_vmspec *vm, struct bx_err *err)
{
	return bx_shim_spawn(vm, false, err);
}

int bx_shim_send_attach(int sock, unsigned flags, struct bx_err *err)
{
	const int fds[3] = {0, 1, 2};
	return bx_shim_send_attach_fds(sock, flags, fds, err);
}

int bx_shim_send_attach_fds(int sock, unsigned flags, const int fds[3], struct bx_err *err)
{
	char flag = (char)flags;
	if (bx_unix_send_fds(sock, &flag, 1, fds, 3, err) < 0)
		return bx_wrap(err, "cannot attach to the box's supervisor");
	return 0;
}

static int send_signal(int sock, int signo)
{
	uint8_t m[BX_MSG_HDR_SIZE + 4];
	bx_msg_encode_hdr(m, BX_M_SIGNAL, 4);
	bx_put_u32(m + BX_MSG_HDR_SIZE, (uint32_t)signo);
	return send(sock, m, sizeof(m), MSG_NOSIGNAL) == (ssize_t)sizeof(m) ? 0 : -1;
}

static const int proxied_signals[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};

int bx_shim_attach(const struct bx_vmspec *vm, bool forward_stdin, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/attach.sock", vm->run_dir) < 0)
		return -1;
	int sock = bx_unix_connect(path, err);
	if (sock < 0)
		return -1;
	if (bx_shim_send_attach(sock, forward_stdin ? BX_ATTACH_STDIN : 0, err) < 0) {
		close(sock);
		return -1;
	}
	/* the shim owns our stdio now; we only relay signals and wait */
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(proxied_signals) / sizeof(proxied_signals[0]); i++)
		sigaddset(&set, proxied_signals[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);

	struct bx_msgbuf mb;
	bx_msgbuf_init(&mb);
	int code = -1;
	bool got_error = false;
	while (code < 0) {
		struct pollfd pfd[2] = {{.fd = sock, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
		if (poll(pfd, sfd >= 0 ? 2 : 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			bx_fail(err, errno, "poll");
			break;
		}
		if (sfd >= 0 && (pfd[1].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				send_signal(sock, (int)si.ssi_signo);
		}
		if (!(pfd[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		uint8_t buf[4096];
		ssize_t n = recv(sock, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (!got_error)
				bx_fail(err, 0, "box %.12s: lost the connection to its supervisor (see %s/shim.log)", vm->id,
					vm->box_dir);
			break;
		}
		if (bx_msgbuf_append(&mb, buf, (size_t)n, err) < 0)
			break;
		struct bx_msg m;
		int r;
		while (code < 0 && (r = bx_msgbuf_next(&mb, &m, err)) > 0) {
			if (m.kind == BX_M_EXIT && m.len == 4) {
				code = (int)((uint32_t)m.payload[0] | (uint32_t)m.payload[1] << 8 |
					     (uint32_t)m.payload[2] << 16 | (uint32_t)m.payload[3] << 24);
			} else if (m.kind == BX_M_ERROR) {
				/* the shim's end message quotes the guest (console lines) */
				char text[sizeof(err->msg)];
				bx_safe_text(text, sizeof(text), m.payload, m.len);
				bx_fail(err, 0, "%s", text);
				got_error = true;
			}
		}
		if (r < 0)
			break;
	}
	bx_msgbuf_free(&mb);
	if (sfd >= 0)
		close(sfd);
	close(sock);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (got_error) {
		err->exit_code = code > 0 ? code : BX_EXIT_ERROR;
		return -1;
	}
	return code;
}
