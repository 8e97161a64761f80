/* boxvm logs [-f] [--tail N] [--since T] [--until T] [-t] BOX: the box's json-file log
 * (json.log.N .. json.log.1, json.log), or the kept copy of a --rm box that
 * failed. -f follows the log until the box stops (across restarts and
 * rotations). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/clock.h"
#include "../store/keptlog.h"
#include "../store/logfile.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"
#include "timearg.h"

enum { OPT_FOLLOW, OPT_TAIL, OPT_SINCE, OPT_UNTIL, OPT_TIMESTAMPS, OPT_HELP };
static const struct bx_opt logs_opts[] = {
	{'f', "follow", NULL, OPT_FOLLOW, "Follow log output"},
	{'n', "tail", "string", OPT_TAIL, "Number of lines to show from the end of the logs (default \"all\")"},
	{0, "since", "string", OPT_SINCE, "Show logs since a timestamp (2026-11-28T10:00:00Z, unix seconds) or a relative time (42m)"},
	{0, "until", "string", OPT_UNTIL, "Show logs before a timestamp (2026-11-28T10:00:00Z, unix seconds) or a relative time (42m)"},
	{'t', "timestamps", NULL, OPT_TIMESTAMPS, "Show timestamps"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

struct logs_opts {
	long long since_ns; /* 0: all */
	long long until_ns; /* 0: no end */
	long tail;          /* -1: all */
	bool timestamps;
};

static void print_entry(const struct bx_log_entry *e, const struct logs_opts *o)
{
	FILE *f = e->stream ? stderr : stdout;
	if (o->timestamps)
		fprintf(f, "%s ", e->time);
	fwrite(e->text, 1, e->len, f);
	fflush(f);
}

/* The entries of one chunk of log text, complete lines only; returns the bytes used. */
struct collected {
	struct bx_log_entry *v;
	size_t n, cap;
};

static size_t take_lines(const char *buf, size_t len, const struct logs_opts *o, struct collected *c)
{
	size_t used = 0;
	while (used < len) {
		const char *nl = memchr(buf + used, '\n', len - used);
		if (!nl)
			break;
		size_t l = (size_t)(nl - (buf + used));
		struct bx_log_entry e;
		if (bx_log_decode(buf + used, l, &e) == 0) {
			if (e.t_ns < o->since_ns || (o->until_ns && e.t_ns > o->until_ns)) {
				bx_log_entry_free(&e);
			} else if (!c) {
				print_entry(&e, o);
				bx_log_entry_free(&e);
			} else {
				if (c->n == c->cap) {
					c->cap = c->cap ? c->cap * 2 : 256;
					struct bx_log_entry *nv = realloc(c->v, c->cap * sizeof(*nv));
					if (!nv) {
						bx_log_entry_free(&e);
						return used;
					}
					c->v = nv;
				}
				c->v[c->n++] = e;
			}
		}
		used += l + 1;
	}
	return used;
}

static void collect_file(const char *path, const struct logs_opts *o, struct collected *c)
{
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	if (bx_read_file(path, &text, &len, NULL) == 0)
		take_lines(text, len, o, c);
}

/* Read fd to its end, printing (or collecting) complete lines; keeps a partial line in *rest. */
static void drain_fd(int fd, const struct logs_opts *o, struct collected *c, char **rest, size_t *rest_len)
{
	char buf[65536];
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		char *nb = realloc(*rest, *rest_len + (size_t)n + 1);
		if (!nb)
			return;
		memcpy(nb + *rest_len, buf, (size_t)n);
		*rest = nb;
		*rest_len += (size_t)n;
		size_t used = take_lines(*rest, *rest_len, o, c);
		memmove(*rest, *rest + used, *rest_len - used);
		*rest_len -= used;
	}
}

static bool box_done(const char *box_dir)
{
	struct bx_box_record r;
	if (bx_state_read(box_dir, &r, NULL) < 0)
		return true; /* removed (--rm) */
	if (bx_state_reconcile(&r))
		return true; /* a dead --rm box, removed just now */
	return !bx_box_status_live(r.status);
}

static ino_t inode_of(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? st.st_ino : 0;
}

static int show(const char *box_dir, const char *current, bool follow, const struct logs_opts *o)
{
	int fd = open(current, O_RDONLY | O_CLOEXEC);
	ino_t ino = 0;
	struct stat st;
	if (fd >= 0 && fstat(fd, &st) == 0)
		ino = st.st_ino;
	/* rotated files, oldest first */
	struct collected c = {0};
	int max_n = 0;
	char path[PATH_MAX + 16];
	while (max_n < 1000 && (snprintf(path, sizeof(path), "%s.%d", current, max_n + 1), access(path, F_OK) == 0))
		max_n++;
	for (int i = max_n; i >= 1; i--) {
		snprintf(path, sizeof(path), "%s.%d", current, i);
		collect_file(path, o, &c);
	}
	char *rest = NULL;
	size_t rest_len = 0;
	if (fd >= 0)
		drain_fd(fd, o, &c, &rest, &rest_len);
	size_t from = o->tail >= 0 && (size_t)o->tail < c.n ? c.n - (size_t)o->tail : 0;
	for (size_t i = 0; i < c.n; i++) {
		if (i >= from)
			print_entry(&c.v[i], o);
		bx_log_entry_free(&c.v[i]);
	}
	free(c.v);
	if (follow && box_dir) {
		int ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ifd >= 0)
			inotify_add_watch(ifd, box_dir, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE | IN_DELETE_SELF);
		for (;;) {
			/* before the last read: nothing written after it is missed */
			bool done = box_done(box_dir) || (o->until_ns && bx_real_ns() > o->until_ns);
			if (fd >= 0)
				drain_fd(fd, o, NULL, &rest, &rest_len);
			ino_t now_ino = inode_of(current);
			if (now_ino && now_ino != ino) {
				/* rotated (or created): the old file is read to its end above */
				if (fd >= 0)
					close(fd);
				fd = open(current, O_RDONLY | O_CLOEXEC);
				ino = now_ino;
				rest_len = 0;
				continue;
			}
			if (done)
				break;
			struct pollfd pfd = {.fd = ifd, .events = POLLIN};
			if (ifd >= 0 && poll(&pfd, 1, 1000) > 0) {
				char buf[4096];
				while (read(ifd, buf, sizeof(buf)) > 0)
					;
			} else if (ifd < 0) {
				poll(NULL, 0, 200);
			}
		}
		if (ifd >= 0)
			close(ifd);
	}
	free(rest);
	if (fd >= 0)
		close(fd);
	return 0;
}

int cmd_logs(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct logs_opts o = {.tail = -1};
	bool follow = false;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, logs_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_FOLLOW: follow = !val; break;
		case OPT_TIMESTAMPS: o.timestamps = !val; break;
		case OPT_TAIL: {
			char *end;
			if (!strcmp(val, "all")) {
				o.tail = -1;
				break;
			}
			/* Docker: anything but a number of lines means all of them */
			o.tail = strtol(val, &end, 10);
			if (end == val || *end || o.tail < 0)
				o.tail = -1;
			break;
		}
		case OPT_SINCE:
			if (cli_parse_time("since", val, &o.since_ns, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_UNTIL:
			if (cli_parse_time("until", val, &o.until_ns, &err) < 0)
				return bx_cli_report(&err);
			break; /* "0" is no end, as in Docker 20.10 */
		case OPT_HELP:
			bx_args_usage("boxvm logs [OPTIONS] BOX", "Fetch the logs of a box.", logs_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 1, 1, "boxvm logs [OPTIONS] BOX", &err) < 0)
		return bx_cli_report(&err);
	const char *ref = argv[a.i];
	struct bx_paths p;
	struct bx_box_record rec;
	char current[PATH_MAX];
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	if (bx_state_lookup(&p, ref, &rec, &err) == 0) {
		if (bx_path_join(current, sizeof(current), &err, "%s/%s", rec.box_dir, BX_LOG_NAME) < 0)
			return bx_cli_report(&err);
		return show(rec.box_dir, current, follow, &o);
	}
	/* a --rm box that failed: its kept log (never followed: it is over) */
	struct bx_err e2;
	if (strstr(err.msg, "ambiguous") || bx_keptlog_find(&p, ref, current, sizeof(current), &e2) < 0)
		return bx_cli_report(&err);
	return show(NULL, current, false, &o);
}
