/* QMP client: see qmp.h. Blocking, one connection per command. */
#include "qmp.h"

#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/unixsock.h"

enum bx_qmp_line bx_qmp_classify(const char *line, char *desc, size_t desc_size)
{
	if (desc_size)
		desc[0] = '\0';
	json_t *o = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
	enum bx_qmp_line kind = BX_QMP_BAD;
	if (json_is_object(o)) {
		json_t *e = json_object_get(o, "error");
		if (json_object_get(o, "return"))
			kind = BX_QMP_RETURN;
		else if (json_is_object(e)) {
			kind = BX_QMP_ERROR;
			const char *d = json_string_value(json_object_get(e, "desc"));
			const char *c = json_string_value(json_object_get(e, "class"));
			if (desc_size)
				snprintf(desc, desc_size, "%s", d ? d : c ? c : "unknown error");
		} else if (json_object_get(o, "event"))
			kind = BX_QMP_EVENT;
		else if (json_is_object(json_object_get(o, "QMP")))
			kind = BX_QMP_GREETING;
	}
	json_decref(o);
	return kind;
}

struct conn {
	int fd;
	long long deadline_ms;
	char buf[8192];
	size_t len; /* bytes in buf not yet returned as lines */
};

/* The next line into out (NUL-terminated, newline stripped). Lines longer
 * than the buffer (QEMU never sends such answers to stop/cont) are an error. */
static int read_line(struct conn *c, char *out, size_t size, struct bx_err *err)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			snprintf(out, size, "%.*s", (int)n, c->buf);
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return 0;
		}
		if (c->len == sizeof(c->buf))
			return bx_fail(err, 0, "QEMU's monitor sent a line over %zu bytes", sizeof(c->buf));
		long long left = c->deadline_ms - bx_mono_ms();
		if (left <= 0)
			return bx_fail(err, ETIMEDOUT, "QEMU's monitor did not answer");
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		int r = poll(&p, 1, (int)left);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return bx_fail(err, errno, "poll on QEMU's monitor");
		if (r == 0)
			continue;
		ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return bx_fail(err, errno, "cannot read from QEMU's monitor");
		if (n == 0)
			return bx_fail(err, 0, "QEMU's monitor closed the connection");
		c->len += (size_t)n;
	}
}

/* Send one command (args: a JSON object's text, or NULL) and wait for its
 * answer, skipping events; ret (when not NULL) gets the answer's "return". */
static int command(struct conn *c, const char *cmd, const char *args, json_t **ret, struct bx_err *err)
{
	char line[8192], desc[512];
	int n = snprintf(line, sizeof(line), "{\"execute\":\"%s\"%s%s}\n", cmd, args ? ",\"arguments\":" : "",
			 args ? args : "");
	if (n < 0 || (size_t)n >= sizeof(line))
		return bx_fail(err, 0, "QMP command %s is too long", cmd);
	ssize_t sent = send(c->fd, line, (size_t)n, MSG_NOSIGNAL);
	if (sent != n)
		return bx_fail(err, sent < 0 ? errno : 0, "cannot write to QEMU's monitor");
	for (;;) {
		if (read_line(c, line, sizeof(line), err) < 0)
			return -1;
		switch (bx_qmp_classify(line, desc, sizeof(desc))) {
		case BX_QMP_RETURN:
			if (ret) {
				/* QEMU's answer: already bounded by the line buffer; the
				 * caller checks the shape of what it takes from it */
				json_t *o = json_loads(line, JSON_DISABLE_EOF_CHECK, NULL);
				*ret = json_incref(json_object_get(o, "return"));
				json_decref(o);
			}
			return 0;
		case BX_QMP_ERROR:
			return bx_fail(err, 0, "QEMU refused \"%s\": %s", cmd, desc);
		case BX_QMP_EVENT:
			continue;
		default:
			return bx_fail(err, 0, "unexpected answer from QEMU's monitor: %.200s", line);
		}
	}
}

int bx_qmp_execute(const char *sock_path, const char *cmd, int timeout_ms, struct bx_err *err)
{
	return bx_qmp_call(sock_path, cmd, NULL, NULL, timeout_ms, err);
}

int bx_qmp_call(const char *sock_path, const char *cmd, const char *args, json_t **ret, int timeout_ms,
		struct bx_err *err)
{
	if (ret)
		*ret = NULL;
	struct conn c = {.fd = bx_unix_connect(sock_path, err), .deadline_ms = bx_mono_ms() + timeout_ms};
	if (c.fd < 0)
		return bx_wrap(err, "cannot reach QEMU's monitor");
	char line[8192];
	int rc = read_line(&c, line, sizeof(line), err);
	if (rc == 0 && bx_qmp_classify(line, NULL, 0) != BX_QMP_GREETING)
		rc = bx_fail(err, 0, "QEMU's monitor did not greet: %.200s", line);
	/* the monitor accepts nothing but qmp_capabilities until it is negotiated */
	if (rc == 0)
		rc = command(&c, "qmp_capabilities", NULL, NULL, err);
	if (rc == 0)
		rc = command(&c, cmd, args, ret, err);
	close(c.fd);
	return rc;
}
