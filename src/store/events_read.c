/* Reading the event log, and following it across rotations (events.h). */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/paths.h"

void bx_events_reader_init(struct bx_events_reader *r, const char *data_dir)
{
	memset(r, 0, sizeof(*r));
	r->fd = -1;
	snprintf(r->path, sizeof(r->path), "%s/%s", data_dir, BX_EVENTS_FILE);
}

void bx_events_reader_close(struct bx_events_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	free(r->partial);
	r->partial = NULL;
	r->partial_len = 0;
}

/* The lines of buf[0..len): whole ones are handed out, an unfinished last
 * one is kept for the next read (dropped if it grows past a record's
 * bound: no writer makes one). */
static int take(struct bx_events_reader *r, const char *buf, size_t len, bx_event_fn fn, void *ctx)
{
	size_t used = 0;
	while (used < len) {
		const char *nl = memchr(buf + used, '\n', len - used);
		if (!nl)
			break;
		size_t n = (size_t)(nl - (buf + used));
		struct bx_event ev;
		if (bx_event_decode(buf + used, n, &ev) == 0) {
			int rc = 0;
			if (ev.seq > r->last_seq) {
				r->last_seq = ev.seq;
				rc = fn ? fn(ctx, &ev) : 0;
			}
			bx_event_free(&ev);
			if (rc) {
				used += n + 1;
				/* what follows is read again by the next poll */
				if (lseek(r->fd, (off_t)(used - len), SEEK_CUR) < 0) {
					/* a regular file: cannot fail */
				}
				return rc;
			}
		}
		used += n + 1;
	}
	size_t rest = len - used;
	if (rest > BX_EVENT_LINE_MAX)
		rest = 0;
	char *p = rest ? malloc(rest) : NULL;
	if (rest && p)
		memcpy(p, buf + used, rest);
	free(r->partial);
	r->partial = p;
	r->partial_len = p ? rest : 0;
	return 0;
}

static int drain(struct bx_events_reader *r, bx_event_fn fn, void *ctx, struct bx_err *err)
{
	for (;;) {
		size_t cap = r->partial_len + 65536;
		char *buf = malloc(cap);
		if (!buf)
			return bx_fail(err, ENOMEM, "out of memory");
		if (r->partial_len)
			memcpy(buf, r->partial, r->partial_len);
		size_t have = r->partial_len;
		free(r->partial);
		r->partial = NULL;
		r->partial_len = 0;
		ssize_t n;
		do
			n = read(r->fd, buf + have, cap - have);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			int e = errno;
			free(buf);
			return bx_fail(err, e, "cannot read %s", r->path);
		}
		if (n == 0) { /* the end for now: keep the unfinished line */
			r->partial = have ? buf : NULL;
			r->partial_len = have;
			if (!have)
				free(buf);
			return 0;
		}
		int rc = take(r, buf, have + (size_t)n, fn, ctx);
		free(buf);
		if (rc)
			return rc;
	}
}

int bx_events_reader_poll(struct bx_events_reader *r, bx_event_fn fn, void *ctx, struct bx_err *err)
{
	for (;;) {
		int rc;
		if (r->fd >= 0 && (rc = drain(r, fn, ctx, err)) != 0)
			return rc;
		struct stat st;
		if (stat(r->path, &st) < 0) {
			if (errno == ENOENT)
				return 0; /* no event yet */
			return bx_fail(err, errno, "cannot read %s", r->path);
		}
		if (r->fd >= 0 && st.st_ino == r->ino)
			return 0;
		/* new, or rotated: the old file is read to its end above (a
		 * rotation happens under the writers' lock, so nothing is added
		 * to it after); the new one repeats its newest records, which
		 * their seq tells us we have seen */
		int fd = open(r->path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			if (errno == ENOENT)
				continue;
			return bx_fail(err, errno, "cannot open %s", r->path);
		}
		if (r->fd >= 0)
			close(r->fd);
		free(r->partial);
		r->partial = NULL;
		r->partial_len = 0;
		r->fd = fd;
		r->ino = fstat(fd, &st) == 0 ? st.st_ino : 0;
	}
}

struct last_exit {
	const char *id;
	long long after_ns;
	int code;
	bool found;
};

static int take_die(void *ctx, const struct bx_event *ev)
{
	struct last_exit *l = ctx;
	const char *code = json_string_value(json_object_get(ev->attrs, "exitCode"));
	if (!strcmp(ev->type, "container") && !strcmp(ev->action, "die") && !strcmp(ev->actor_id, l->id) && code &&
	    ev->time_ns > l->after_ns) {
		l->code = atoi(code);
		l->found = true;
	}
	return 0;
}

int bx_events_last_exit(const char *data_dir, const char *box_id, long long after_ns, int *code)
{
	struct bx_events_reader r;
	struct last_exit l = {.id = box_id, .after_ns = after_ns};
	struct bx_err err;
	bx_events_reader_init(&r, data_dir);
	int rc = bx_events_reader_poll(&r, take_die, &l, &err);
	bx_events_reader_close(&r);
	if (rc < 0 || !l.found)
		return -1;
	*code = l.code;
	return 0;
}
