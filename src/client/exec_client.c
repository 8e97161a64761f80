/* Running a process in a running box through its shim's exec.sock (exec_client.h). */
#include "exec_client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "../common/safetext.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "../proto/msg.h"

int bx_cli_running_box(const char *ref, const char *verb, struct bx_box_record *rec, struct bx_err *err)
{
	struct bx_paths p;
	if (bx_paths_init(&p, err) < 0 || bx_state_lookup(&p, ref, rec, err) < 0)
		return -1;
	if (!bx_box_is_running(rec))
		return bx_fail(err, 0, "box %s is not running (start it with 'boxvm start %s')", ref, ref);
	if (rec->status == BX_BOX_PAUSED)
		return bx_fail(err, 0, "box %s is paused, unpause it before %s", ref, verb);
	return 0;
}

static int exec_connect(const struct bx_box_record *box, const struct bx_spec *spec, uint32_t port_flags,
			struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/exec.sock", box->run_dir) < 0)
		return -1;
	int sock = bx_unix_connect(path, err);
	if (sock < 0) {
		if (err->errnum == ENOENT || err->errnum == ECONNREFUSED)
			return bx_fail(err, 0, "box %.12s is not running", box->id);
		return -1;
	}
	uint8_t *req = NULL;
	size_t req_len = 0;
	uint8_t port[4];
	bx_put_u32(port, (spec->tty ? BX_PORT_PTY : BX_PORT_EXEC) | port_flags);
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

int bx_exec_connect(const struct bx_box_record *box, const struct bx_spec *spec, struct bx_err *err)
{
	return exec_connect(box, spec, BX_EXEC_EVENTS, err);
}

/* One exchange with the agent: read session messages, each given to
 * on_msg, until it returns something other than -2; the connection's end
 * first is a failure that names `error` (the guest's last ERROR) if any. */
struct exchange {
	char error[1024]; /* the guest's last ERROR, made safe to print */
	int (*on_msg)(struct exchange *x, const struct bx_msg *m, struct bx_err *err);
	const char *lost; /* what the connection's end means */
};

static int exchange_run(int sock, const struct bx_box_record *box, struct exchange *x, struct bx_err *err)
{
	struct bx_msgbuf mb;
	int rc = -2;
	bx_msgbuf_init(&mb);
	while (rc == -2) {
		uint8_t buf[4096];
		ssize_t n = recv(sock, buf, sizeof(buf), 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = bx_fail(err, n < 0 ? errno : 0, "box %.12s: %s%s%s", box->id, x->lost, x->error[0] ? ": " : "",
				     x->error);
			break;
		}
		if (bx_msgbuf_append(&mb, buf, (size_t)n, err) < 0) {
			rc = -1;
			break;
		}
		struct bx_msg m;
		int k;
		while (rc == -2 && (k = bx_msgbuf_next(&mb, &m, err)) != 0) {
			if (k < 0)
				rc = -1;
			else if (m.kind == BX_M_ERROR)
				bx_safe_text(x->error, sizeof(x->error), m.payload,
					     m.len < BX_MSG_ERROR_TEXT_MAX ? m.len : BX_MSG_ERROR_TEXT_MAX);
			else
				rc = x->on_msg(x, &m, err);
		}
	}
	bx_msgbuf_free(&mb);
	return rc;
}

/* Until the agent says the process started (0), or refused it (ERROR, then
 * EXIT with 126/127/125: that code, err filled). STDOUT/STDERR before
 * STARTED (the agent's own report of a failed start) carry the ERROR's text
 * again: not printed twice. */
static int started_msg(struct exchange *x, const struct bx_msg *m, struct bx_err *err)
{
	if (m->kind == BX_M_STARTED)
		return 0;
	if (m->kind != BX_M_EXIT || m->len != 4)
		return -2;
	int code = (int32_t)bx_get_u32(m->payload);
	bx_fail_code(err, code ? code : BX_EXIT_ERROR, 0, "%s",
		     x->error[0] ? x->error : "the command exited before it could be detached");
	return code ? code : BX_EXIT_ERROR;
}

static int await_started(int sock, const struct bx_box_record *box, struct bx_err *err)
{
	struct exchange x = {.on_msg = started_msg, .lost = "the connection to its supervisor was lost"};
	return exchange_run(sock, box, &x, err);
}

int bx_exec_start_detached(const struct bx_box_record *box, const struct bx_spec *spec, struct bx_err *err)
{
	int sock = exec_connect(box, spec, BX_EXEC_DETACHED | BX_EXEC_EVENTS, err);
	if (sock < 0)
		return -1;
	int rc = await_started(sock, box, err);
	close(sock); /* the shim keeps the session; the process runs on */
	return rc;
}

static int exec_run(const struct bx_box_record *box, const struct bx_spec *spec, const struct bx_relay_opts *o,
		    uint32_t port_flags, struct bx_err *err)
{
	int sock = exec_connect(box, spec, port_flags, err);
	if (sock < 0)
		return -1;
	struct bx_relay_result res;
	int rc = bx_relay_run(sock, o, &res, err);
	close(sock);
	return rc < 0 ? -1 : res.code;
}

int bx_exec_run(const struct bx_box_record *box, const struct bx_spec *spec, const struct bx_relay_opts *o,
		struct bx_err *err)
{
	return exec_run(box, spec, o, BX_EXEC_EVENTS, err);
}

int bx_exec_run_internal(const struct bx_box_record *box, const struct bx_spec *spec, const struct bx_relay_opts *o,
			 struct bx_err *err)
{
	return exec_run(box, spec, o, 0, err);
}

/* The guest's answer: empty when done, else why not (made safe to print) */
static int answer_msg(struct exchange *x, const struct bx_msg *m, uint8_t kind, struct bx_err *err)
{
	if (m->kind != kind)
		return -2;
	if (!m->len)
		return 0;
	bx_safe_text(x->error, sizeof(x->error), m->payload, m->len < BX_MSG_ERROR_TEXT_MAX ? m->len : BX_MSG_ERROR_TEXT_MAX);
	return bx_fail(err, 0, "%s", x->error);
}

static int netcfg_msg(struct exchange *x, const struct bx_msg *m, struct bx_err *err)
{
	return answer_msg(x, m, BX_M_NETCFG, err);
}

static int limit_msg(struct exchange *x, const struct bx_msg *m, struct bx_err *err)
{
	return answer_msg(x, m, BX_M_LIMIT, err);
}

/* One request the guest answers with empty (done) or why not. */
static int ask_guest(const struct bx_box_record *box, uint8_t kind, const char *text,
		     int (*on_msg)(struct exchange *, const struct bx_msg *, struct bx_err *), const char *lost,
		     struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/exec.sock", box->run_dir) < 0)
		return -1;
	_cleanup_close_ int sock = bx_unix_connect(path, err);
	if (sock < 0)
		return bx_fail(err, 0, "box %.12s is not running", box->id);
	/* a guest that never answers costs this long, then the change is refused */
	struct timeval guard = {.tv_sec = 60};
	setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &guard, sizeof(guard));
	uint8_t port[4];
	bx_put_u32(port, BX_PORT_EXEC);
	if (send(sock, port, sizeof(port), MSG_NOSIGNAL) != (ssize_t)sizeof(port) ||
	    bx_relay_send_msg(sock, kind, text, (uint32_t)strlen(text), err) < 0)
		return bx_fail(err, errno, "box %.12s: cannot send to its supervisor", box->id);
	struct exchange x = {.on_msg = on_msg, .lost = lost};
	return exchange_run(sock, box, &x, err);
}

int bx_exec_netcfg(const struct bx_box_record *box, const char *text, struct bx_err *err)
{
	return ask_guest(box, BX_M_NETCFG, text, netcfg_msg, "its guest did not answer the network change", err);
}

int bx_exec_limit(const struct bx_box_record *box, const char *text, struct bx_err *err)
{
	return ask_guest(box, BX_M_LIMIT, text, limit_msg, "its guest did not answer the limit change", err);
}
