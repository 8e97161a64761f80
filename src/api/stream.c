/* The Engine API's long replies: POST /containers/ID/wait and GET
 * /containers/ID/logs. Each runs in its connection's own thread (service.c)
 * and blocks in poll() on its source and on the client's socket: a client
 * that hangs up ends it at once (MHD then frees it: *_free). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "route.h"
#include "../common/boxid.h"
#include "../common/clock.h"
#include "../store/events.h"
#include "../store/logread.h"
#include "../store/state.h"

enum wait_cond { WAIT_NOT_RUNNING, WAIT_NEXT_EXIT, WAIT_REMOVED };

struct wait_stream {
	char box_dir[PATH_MAX];
	char data_dir[PATH_MAX];
	char id[BX_ID_LEN + 1];
	long long asked_ns; /* when the wait came: a die logged later is this wait's */
	enum wait_cond cond;
	long long mark; /* the record's finished_ns when asked: a later one is a new exit */
	int client_fd;
	bool sent;
};

static bool exited_since(const struct bx_box_record *r, void *ctx)
{
	const struct wait_stream *w = ctx;
	if (r->finished_ns > w->mark)
		return true;
	/* not-running: any box not running; removed: one that has run and ended (a created box runs first) */
	return w->cond == WAIT_NOT_RUNNING ? !bx_box_status_live(r->status) : w->cond == WAIT_REMOVED && r->status == BX_BOX_EXITED;
}

static bool never(const struct bx_box_record *r, void *ctx)
{
	return false;
}

static ssize_t wait_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct wait_stream *w = cls;
	if (w->sent)
		return MHD_CONTENT_READER_END_OF_STREAM;
	struct bx_err err = {0};
	struct bx_box_record rec;
	int rc = bx_state_wait_fd(w->box_dir, exited_since, w, -1, w->client_fd, &rec, &err);
	if (rc < 0 && err.errnum == ECANCELED)
		return MHD_CONTENT_READER_END_WITH_ERROR; /* the client hung up */
	if (rc > 0 && w->cond == WAIT_REMOVED) {
		/* removed: the code of its end, once its record is gone */
		struct bx_err e2 = {0};
		if (bx_state_wait_fd(w->box_dir, never, NULL, -1, w->client_fd, NULL, &e2) < 0 && e2.errnum == ECANCELED)
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	/* gone before its record was read (a --rm box exits and is removed
	 * between two looks): the die the shim logged before removing it */
	int code;
	if (rc < 0 && err.errnum == ENOENT && bx_events_last_exit(w->data_dir, w->id, w->asked_ns, &code) == 0) {
		rc = 1;
		rec.exit_code = code;
	}
	int n;
	if (rc > 0)
		n = snprintf(buf, max, "{\"StatusCode\":%d,\"Error\":null}\n", rec.exit_code);
	else /* removed (--rm) before its end could be read */
		n = snprintf(buf, max, "{\"StatusCode\":-1,\"Error\":{\"Message\":\"the box was removed before its exit "
				       "code could be read\"}}\n");
	w->sent = true;
	return n > 0 && (size_t)n < max ? n : MHD_CONTENT_READER_END_WITH_ERROR;
}

enum MHD_Result api_wait(struct api_req *r, const char *id)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, id, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", id) : api_fail(r, &err);
	const char *c = api_arg(r, "condition");
	enum wait_cond cond = WAIT_NOT_RUNNING;
	if (c && !strcmp(c, "next-exit"))
		cond = WAIT_NEXT_EXIT;
	else if (c && !strcmp(c, "removed"))
		cond = WAIT_REMOVED;
	else if (c && *c && strcmp(c, "not-running"))
		return api_error(r, 400, "invalid condition: \"%s\" (not-running, next-exit or removed)", c);
	struct wait_stream *w = calloc(1, sizeof(*w));
	if (!w)
		return api_error(r, 500, "out of memory");
	snprintf(w->box_dir, sizeof(w->box_dir), "%s", rec.box_dir);
	snprintf(w->data_dir, sizeof(w->data_dir), "%s", r->p.data);
	snprintf(w->id, sizeof(w->id), "%s", rec.id);
	w->asked_ns = bx_real_ns();
	w->cond = cond;
	w->mark = rec.finished_ns;
	w->client_fd = api_client_fd(r);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 1024, wait_read, w, free);
	if (!resp) {
		free(w);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, 200, resp);
}

struct log_stream {
	struct bx_logread *lr;
	bool want[2];   /* stdout, stderr */
	bool timestamps, tty;
	int client_fd;
	char *pend;     /* framed bytes not yet handed to MHD */
	size_t pend_len, pend_off;
};

/* one entry as the client gets it: the 8-byte frame header unless the box has a terminal */
static int frame(struct log_stream *s, const struct bx_log_entry *e)
{
	size_t ts = s->timestamps ? strlen(e->time) + 1 : 0, body = ts + e->len, hdr = s->tty ? 0 : 8;
	char *p = malloc(hdr + body);
	if (!p)
		return -1;
	if (hdr)
		api_frame_header((unsigned char *)p, e->stream ? 2 : 1, body);
	if (ts) {
		memcpy(p + hdr, e->time, ts - 1);
		p[hdr + ts - 1] = ' ';
	}
	memcpy(p + hdr + ts, e->text, e->len);
	free(s->pend);
	s->pend = p;
	s->pend_len = hdr + body;
	s->pend_off = 0;
	return 0;
}

static ssize_t logs_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct log_stream *s = cls;
	size_t out = 0;
	for (;;) {
		if (s->pend_off < s->pend_len) {
			size_t n = s->pend_len - s->pend_off;
			if (n > max - out)
				n = max - out;
			memcpy(buf + out, s->pend + s->pend_off, n);
			out += n;
			s->pend_off += n;
			if (out == max)
				return (ssize_t)out;
			continue;
		}
		struct bx_log_entry e;
		enum bx_logread_res res = bx_logread_next(s->lr, &e);
		if (res == BX_LOGREAD_END)
			return out ? (ssize_t)out : MHD_CONTENT_READER_END_OF_STREAM;
		if (res == BX_LOGREAD_ENTRY) {
			int rc = s->want[e.stream ? 1 : 0] ? frame(s, &e) : 0;
			bx_log_entry_free(&e);
			if (rc < 0)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			continue;
		}
		if (out)
			return (ssize_t)out; /* what there is now goes out before we wait */
		/* following: wait for a write to the box's directory or the client's hang-up;
		 * the pause is a backstop for a missed event (and for until=) */
		struct pollfd pfd[2] = {{.fd = bx_logread_fd(s->lr), .events = POLLIN},
					{.fd = s->client_fd, .events = 0}};
		if (poll(pfd, 2, pfd[0].fd >= 0 ? 1000 : 200) > 0) {
			if (pfd[1].revents)
				return MHD_CONTENT_READER_END_WITH_ERROR;
			bx_logread_ack(s->lr);
		}
	}
}

static void logs_free(void *cls)
{
	struct log_stream *s = cls;
	bx_logread_close(s->lr);
	free(s->pend);
	free(s);
}

/* since=/until=: unix seconds, maybe with a fraction ("1700000000.5") */
static int unix_arg(struct api_req *r, const char *key, long long *ns)
{
	const char *v = api_arg(r, key);
	*ns = 0;
	if (!v || !*v)
		return 0;
	char *end;
	double d = strtod(v, &end);
	if (end == v || *end || d < 0 || d > 1e11)
		return -1;
	*ns = (long long)(d * 1e9);
	return 0;
}

enum MHD_Result api_logs(struct api_req *r, const char *id)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, id, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", id) : api_fail(r, &err);
	struct bx_logread_opts o = {.tail = -1, .follow = api_arg_bool(r, "follow")};
	const char *tail = api_arg(r, "tail");
	if (tail && strcmp(tail, "all")) {
		char *end;
		long t = strtol(tail, &end, 10);
		if (end != tail && !*end && t >= 0)
			o.tail = t; /* Docker: anything but a number of lines means all of them */
	}
	if (unix_arg(r, "since", &o.since_ns) < 0 || unix_arg(r, "until", &o.until_ns) < 0)
		return api_error(r, 400, "invalid since or until: use unix seconds");
	bool out = api_arg_bool(r, "stdout"), errs = api_arg_bool(r, "stderr");
	if (!out && !errs)
		return api_error(r, 400, "Bad parameters: you must choose at least one stream");
	struct log_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return api_error(r, 500, "out of memory");
	s->want[0] = out;
	s->want[1] = errs;
	s->timestamps = api_arg_bool(r, "timestamps");
	s->client_fd = api_client_fd(r);
	char cfg[PATH_MAX], current[PATH_MAX];
	json_t *c = bx_path_join(cfg, sizeof(cfg), NULL, "%s/config.json", rec.box_dir) == 0 ? json_load_file(cfg, 0, NULL)
											     : NULL;
	s->tty = json_is_true(json_object_get(json_object_get(c, "Config"), "Tty"));
	json_decref(c);
	if (bx_path_join(current, sizeof(current), &err, "%s/%s", rec.box_dir, BX_LOG_NAME) < 0 ||
	    bx_logread_open(rec.box_dir, current, &o, &s->lr, &err) < 0) {
		free(s);
		return api_fail(r, &err);
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, logs_read, s, logs_free);
	if (!resp) {
		logs_free(s);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	return api_reply(r, 200, resp);
}
