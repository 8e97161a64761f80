#include "exec_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../lib/paths.h"
#include "../proto/frame.h"
#include "../proto/msg.h"

int bx_cli_running_box(const char *ref, struct bx_box_record *rec, struct bx_err *err)
{
	struct bx_paths p;
	if (bx_paths_init(&p, err) < 0 || bx_state_lookup(&p, ref, rec, err) < 0)
		return -1;
	if (!bx_box_is_running(rec))
		return bx_fail(err, 0, "box %s is not running (start it with 'boxvm start %s')", ref, ref);
	return 0;
}

int bx_exec_connect(const struct bx_box_record *box, const struct bx_spec *spec, struct bx_err *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (bx_path_join(sa.sun_path, sizeof(sa.sun_path), err, "%s/exec.sock", box->run_dir) < 0)
		return -1;
	int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (sock < 0)
		return bx_fail(err, errno, "socket");
	if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;
		close(sock);
		if (e == ENOENT || e == ECONNREFUSED)
			return bx_fail(err, 0, "box %.12s is not running", box->id);
		return bx_fail(err, e, "cannot connect to %s", sa.sun_path);
	}
	uint8_t *req = NULL;
	size_t req_len = 0;
	uint8_t port[4];
	bx_put_u32(port, spec->tty ? BX_PORT_PTY : BX_PORT_EXEC);
	/* the port, then REQ: the shim relays from here on */
	if (bx_spec_encode(spec, &req, &req_len, err) < 0)
		goto fail;
	if (req_len > BX_MSG_MAX) {
		bx_fail(err, 0, "the command and its environment are too large (%zu bytes)", req_len);
		goto fail;
	}
	if (send(sock, port, sizeof(port), MSG_NOSIGNAL) != (ssize_t)sizeof(port)) {
		bx_fail(err, errno, "box %.12s: cannot send to its supervisor", box->id);
		goto fail;
	}
	if (bx_relay_send_msg(sock, BX_M_REQ, req, (uint32_t)req_len, err) < 0)
		goto fail;
	free(req);
	return sock;
fail:
	free(req);
	close(sock);
	return -1;
}

int bx_exec_run(const struct bx_box_record *box, const struct bx_spec *spec, const struct bx_relay_opts *o,
		struct bx_err *err)
{
	int sock = bx_exec_connect(box, spec, err);
	if (sock < 0)
		return -1;
	struct bx_relay_result res;
	int rc = bx_relay_run(sock, o, &res, err);
	close(sock);
	return rc < 0 ? -1 : res.code;
}
