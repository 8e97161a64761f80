/* The terminal attach to a box's main process (run -it, boxvm attach): the
 * shim writes the pty's output straight to our stdout; our raw stdin goes as
 * STDIN messages so the detach keys can be taken out here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/paths.h"
#include "../common/unixsock.h"
#include "relay.h"
#include "shim_client.h"

int bx_shim_attach_tty(const char *run_dir, const char *id, bool forward_stdin, const struct bx_detach *keys,
		       bool *detached, struct bx_err *err)
{
	*detached = false;
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/attach.sock", run_dir) < 0)
		return -1;
	int sock = bx_unix_connect(path, err);
	if (sock < 0) {
		if (err->errnum == ENOENT || err->errnum == ECONNREFUSED)
			return bx_fail(err, 0, "box %.12s is not running", id);
		return -1;
	}
	unsigned flags = forward_stdin ? BX_ATTACH_STDIN | BX_ATTACH_STDIN_MSGS : 0;
	if (bx_shim_send_attach(sock, flags, err) < 0) {
		close(sock);
		return -1;
	}
	char what[64];
	snprintf(what, sizeof(what), "box %.12s", id);
	struct bx_relay_opts o = {
		.in_fd = forward_stdin ? 0 : -1,
		.out_fd = 1,
		.err_fd = 2,
		.tty = isatty(0),
		.tty_fd = 0,
		.detach = *keys,
		.what = what,
	};
	if (!o.tty)
		o.detach.n = 0;
	struct bx_relay_result res;
	int rc = bx_relay_run(sock, &o, &res, err);
	close(sock);
	if (rc < 0)
		return -1;
	*detached = res.detached;
	return res.code;
}
