/* Reading a box's json-file log (logread.h). */
#include "logread.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/paths.h"
#include "state.h"

struct bx_logread {
	struct bx_logread_opts o;
	char box_dir[PATH_MAX];  /* "" when not followed */
	char current[PATH_MAX];
	int fd;                  /* the current file, -1: none yet */
	ino_t ino;
	int ifd;                 /* inotify on box_dir (follow), -1: none */
	struct bx_log_entry *past; /* what was there at open (tail applied) */
	size_t npast, next_past;
	char *rest;              /* bytes of the current file read but not yet a whole line */
	size_t rest_len, rest_used;
	bool ended;
};

static bool keep(const struct bx_logread_opts *o, const struct bx_log_entry *e)
{
	return e->t_ns >= o->since_ns && !(o->until_ns && e->t_ns > o->until_ns);
}

/* the next whole line of r->rest as an entry; false when there is none */
static bool take_line(struct bx_logread *r, struct bx_log_entry *e)
{
	while (r->rest_used < r->rest_len) {
		const char *start = r->rest + r->rest_used;
		const char *nl = memchr(start, '\n', r->rest_len - r->rest_used);
		if (!nl)
			break;
		size_t l = (size_t)(nl - start);
		r->rest_used += l + 1;
		if (bx_log_decode(start, l, e) == 0) {
			if (keep(&r->o, e))
				return true;
			bx_log_entry_free(e);
		}
	}
	/* keep only the unfinished line */
	if (r->rest_used)
		memmove(r->rest, r->rest + r->rest_used, r->rest_len - r->rest_used);
	r->rest_len -= r->rest_used;
	r->rest_used = 0;
	return false;
}

/* append what fd has now to rest; false at its end (or an error) */
static bool read_more(struct bx_logread *r, int fd)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) < 0 && errno == EINTR)
		;
	if (n <= 0)
		return false;
	char *nb = realloc(r->rest, r->rest_len + (size_t)n + 1);
	if (!nb)
		return false;
	memcpy(nb + r->rest_len, buf, (size_t)n);
	r->rest = nb;
	r->rest_len += (size_t)n;
	return true;
}

static int push_past(struct bx_logread *r, size_t *cap, struct bx_log_entry *e)
{
	if (r->npast == *cap) {
		size_t nc = *cap ? *cap * 2 : 256;
		struct bx_log_entry *nv = realloc(r->past, nc * sizeof(*nv));
		if (!nv)
			return -1;
		r->past = nv;
		*cap = nc;
	}
	r->past[r->npast++] = *e;
	return 0;
}

/* every entry of fd to its end into past */
static int collect_fd(struct bx_logread *r, int fd, size_t *cap)
{
	struct bx_log_entry e;
	for (;;) {
		while (take_line(r, &e))
			if (push_past(r, cap, &e) < 0) {
				bx_log_entry_free(&e);
				return -1;
			}
		if (!read_more(r, fd))
			return 0;
	}
}

int bx_logread_open(const char *box_dir, const char *current, const struct bx_logread_opts *o, struct bx_logread **out,
		    struct bx_err *err)
{
	struct bx_logread *r = calloc(1, sizeof(*r));
	if (!r)
		return bx_fail(err, ENOMEM, "out of memory");
	r->o = *o;
	r->fd = r->ifd = -1;
	snprintf(r->current, sizeof(r->current), "%s", current);
	if (box_dir && o->follow) {
		snprintf(r->box_dir, sizeof(r->box_dir), "%s", box_dir);
		/* watched before anything is read: no write after the read is missed */
		r->ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (r->ifd >= 0)
			inotify_add_watch(r->ifd, box_dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
	}
	r->fd = open(current, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (r->fd >= 0 && fstat(r->fd, &st) == 0)
		r->ino = st.st_ino;
	/* rotated files, oldest first, then the current one */
	int max_n = 0;
	char path[PATH_MAX + 16];
	while (max_n < 1000 && (snprintf(path, sizeof(path), "%s.%d", current, max_n + 1), access(path, F_OK) == 0))
		max_n++;
	size_t cap = 0;
	int rc = 0;
	for (int i = max_n; i >= 1 && rc == 0; i--) {
		snprintf(path, sizeof(path), "%s.%d", current, i);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		rc = collect_fd(r, fd, &cap);
		r->rest_len = r->rest_used = 0; /* a rotated file's unfinished line stays unfinished */
		close(fd);
	}
	if (rc == 0 && r->fd >= 0)
		rc = collect_fd(r, r->fd, &cap);
	if (rc < 0) {
		bx_logread_close(r);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	if (o->tail >= 0 && (size_t)o->tail < r->npast)
		for (; r->next_past < r->npast - (size_t)o->tail; r->next_past++)
			bx_log_entry_free(&r->past[r->next_past]);
	*out = r;
	return 0;
}

static bool box_done(const char *box_dir)
{
	struct bx_box_record rec;
	if (bx_state_read(box_dir, &rec, NULL) < 0)
		return true; /* removed (--rm) */
	if (bx_state_reconcile(&rec))
		return true; /* a dead --rm box, removed just now */
	return !bx_box_status_live(rec.status);
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

enum bx_logread_res bx_logread_next(struct bx_logread *r, struct bx_log_entry *e)
{
	if (r->next_past < r->npast) {
		*e = r->past[r->next_past++];
		return BX_LOGREAD_ENTRY;
	}
	if (r->ended || !r->box_dir[0])
		return BX_LOGREAD_END;
	for (;;) {
		/* before the last read: nothing written after it is missed */
		bool done = box_done(r->box_dir) || (r->o.until_ns && bx_real_ns() > r->o.until_ns);
		do {
			if (take_line(r, e))
				return BX_LOGREAD_ENTRY;
		} while (r->fd >= 0 && read_more(r, r->fd));
		ino_t now_ino = inode_of(r->current);
		if (now_ino && now_ino != r->ino) {
			/* rotated (or created): the old file is read to its end above */
			if (r->fd >= 0)
				close(r->fd);
			r->fd = open(r->current, O_RDONLY | O_CLOEXEC);
			r->ino = now_ino;
			r->rest_len = r->rest_used = 0;
			continue;
		}
		if (done) {
			r->ended = true;
			return BX_LOGREAD_END;
		}
		return BX_LOGREAD_AGAIN;
	}
}

int bx_logread_fd(const struct bx_logread *r)
{
	return r->ifd;
}

void bx_logread_ack(struct bx_logread *r)
{
	char buf[4096];
	if (r->ifd >= 0)
		while (read(r->ifd, buf, sizeof(buf)) > 0)
			;
}

void bx_logread_close(struct bx_logread *r)
{
	if (!r)
		return;
	for (size_t i = r->next_past; i < r->npast; i++)
		bx_log_entry_free(&r->past[i]);
	free(r->past);
	free(r->rest);
	if (r->fd >= 0)
		close(r->fd);
	if (r->ifd >= 0)
		close(r->ifd);
	free(r);
}
