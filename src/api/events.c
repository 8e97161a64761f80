/* GET /events of the Engine API: boxvm's event log (store/events.h) as
 * Docker streams it, one JSON object a line ({status, id, from, Type,
 * Action, Actor, scope, time, timeNano}). since=/until= (unix seconds) and
 * filters (type, container, image, event, label, network, volume, and the
 * keys Docker accepts and ignores) as `boxvm events` takes them. Without
 * since= only what happens from now on; without until= it follows until the
 * client goes. A content-reader callback in the connection's own thread
 * (service.c): it blocks in poll() on an inotify of DATA (where the log is
 * appended) and on the client's socket, so it holds no other request up and
 * ends (freeing the reader) as soon as the client hangs up. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "api.h"
#include "filtermap.h"
#include "../common/clock.h"
#include "../store/events.h"

/* the lines read but not yet handed to MHD: a poll stops adding past this */
#define PENDING_SOFT_MAX (64 * 1024)

struct ev_stream {
	struct bx_events_reader rd;
	struct bx_event_filter filter;
	int ifd, client_fd;
	bool has_since, has_until, started, done;
	long long since_ns, until_ns;
	char *pend;
	size_t len, off;
};

static int collect(void *ctx, const struct bx_event *ev)
{
	struct ev_stream *s = ctx;
	if (!s->started)
		return 0; /* no since=: what is in the log already is only skipped */
	/* both ends included, as Docker's daemon compares them */
	if ((s->has_since && ev->time_ns < s->since_ns) || (s->has_until && ev->time_ns > s->until_ns) ||
	    !bx_event_filter_match(&s->filter, ev))
		return 0;
	char *line = bx_event_encode(ev, false);
	if (!line)
		return -1;
	size_t n = strlen(line);
	char *nb = realloc(s->pend, s->len + n + 1);
	if (!nb) {
		free(line);
		return -1;
	}
	memcpy(nb + s->len, line, n);
	nb[s->len + n] = '\n';
	s->pend = nb;
	s->len += n + 1;
	free(line);
	return s->len - s->off > PENDING_SOFT_MAX ? 1 : 0; /* the rest at the next poll */
}

static ssize_t events_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct ev_stream *s = cls;
	struct bx_err err = {0};
	for (;;) {
		if (s->off < s->len) {
			size_t n = s->len - s->off < max ? s->len - s->off : max;
			memcpy(buf, s->pend + s->off, n);
			s->off += n;
			if (s->off == s->len)
				s->off = s->len = 0;
			return (ssize_t)n;
		}
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		int rc = bx_events_reader_poll(&s->rd, collect, s, &err);
		if (rc < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (!s->started) {
			s->started = true;
			continue;
		}
		if (rc > 0 || s->len)
			continue; /* more to read, or what there is goes out first */
		int wait = -1;
		if (s->has_until) {
			long long left = (s->until_ns - bx_real_ns()) / 1000000 + 1;
			if (left <= 0 || s->ifd < 0) {
				/* the last ones before until= were read just now */
				s->done = true;
				continue;
			}
			wait = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd pfd[2] = {{.fd = s->ifd, .events = POLLIN}, {.fd = s->client_fd, .events = 0}};
		int n = poll(pfd, 2, wait);
		if (n < 0 && errno != EINTR)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (pfd[1].revents)
			return MHD_CONTENT_READER_END_WITH_ERROR; /* the client hung up */
		if (n > 0 && pfd[0].revents) {
			char ibuf[4096];
			while (read(s->ifd, ibuf, sizeof(ibuf)) > 0)
				;
		}
	}
}

static void events_free(void *cls)
{
	struct ev_stream *s = cls;
	bx_events_reader_close(&s->rd);
	bx_event_filter_free(&s->filter);
	if (s->ifd >= 0)
		close(s->ifd);
	free(s->pend);
	free(s);
}

/* since=/until=: unix seconds, maybe with a fraction to the nanosecond
 * ("1700000000.123456789", as Docker's clients send a time), read exactly */
static int unix_arg(struct api_req *r, const char *key, bool *has, long long *ns)
{
	const char *v = api_arg(r, key);
	*has = v && *v;
	if (!*has)
		return 0;
	long long sec = 0, frac = 0, scale = 100000000LL;
	const char *p = v;
	for (; *p >= '0' && *p <= '9'; p++) {
		sec = sec * 10 + (*p - '0');
		if (sec > 100000000000LL)
			return -1;
	}
	if (p == v)
		return -1;
	if (*p == '.')
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			frac += scale ? (*p - '0') * scale : 0;
	if (*p)
		return -1;
	*ns = sec * 1000000000LL + frac;
	return 0;
}

enum MHD_Result api_events(struct api_req *r)
{
	static const char *const keys[] = {"type", "container", "image", "event", "label", "network", "volume",
					   "plugin", "daemon", "config", "secret", "service", "node", "scope", NULL};
	struct bx_err err = {0};
	struct ev_stream *s = calloc(1, sizeof(*s));
	if (!s)
		return api_error(r, 500, "out of memory");
	s->ifd = -1;
	s->client_fd = api_client_fd(r);
	bx_events_reader_init(&s->rd, r->p.data);
	json_t *f = NULL;
	enum MHD_Result ret;
	if (unix_arg(r, "since", &s->has_since, &s->since_ns) < 0 || unix_arg(r, "until", &s->has_until, &s->until_ns) < 0) {
		ret = api_error(r, 400, "invalid since or until: use unix seconds");
		goto fail;
	}
	if (s->has_since && s->has_until && s->since_ns > s->until_ns) {
		ret = api_error(r, 400, "`since` time (%s) cannot be after `until` time (%s)", api_arg(r, "since"),
				api_arg(r, "until"));
		goto fail;
	}
	if (api_filtermap_parse(api_arg(r, "filters"), keys, &f, &err) < 0) {
		ret = api_error(r, 400, "%s", err.msg);
		goto fail;
	}
	const char *k;
	json_t *vals, *v;
	size_t i;
	json_object_foreach(f, k, vals) json_array_foreach(vals, i, v) {
		char kv[1024];
		snprintf(kv, sizeof(kv), "%s=%s", k, json_string_value(v));
		if (bx_event_filter_add(&s->filter, kv, &err) < 0) {
			ret = api_fail(r, &err);
			goto fail;
		}
	}
	json_decref(f);
	f = NULL;
	/* watched before the first read: nothing appended after it is missed */
	if (!s->has_until || s->until_ns > bx_real_ns()) {
		if (bx_mkdir_p(r->p.data, 0700, &err) < 0) {
			ret = api_fail(r, &err);
			goto fail;
		}
		s->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (s->ifd < 0 || inotify_add_watch(s->ifd, r->p.data, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
			ret = api_error(r, 500, "cannot watch %s for events", r->p.data);
			goto fail;
		}
	}
	/* Docker: with neither since= nor until=, only what happens from now on */
	s->started = s->has_since || s->has_until;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 32 * 1024, events_read, s, events_free);
	if (!resp) {
		ret = api_error(r, 500, "out of memory");
		goto fail;
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, 200, resp);
fail:
	json_decref(f);
	events_free(s);
	return ret;
}
