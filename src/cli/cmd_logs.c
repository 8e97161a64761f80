/* boxvm logs [-f] [--tail N] [--since T] [--until T] [-t] BOX: the box's json-file log
 * (json.log.N .. json.log.1, json.log), or the kept copy of a --rm box that
 * failed. -f follows the log until the box stops (across restarts and
 * rotations). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/cleanup.h"
#include "../common/clock.h"
#include "../store/keptlog.h"
#include "../store/logfile.h"
#include "../store/logread.h"
#include "../store/state.h"
#include "args.h"
#include "cli.h"
#include "../store/timearg.h"

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

static void print_entry(const struct bx_log_entry *e, bool timestamps)
{
	FILE *f = e->stream ? stderr : stdout;
	if (timestamps)
		fprintf(f, "%s ", e->time);
	fwrite(e->text, 1, e->len, f);
	fflush(f);
}

static int show(const char *box_dir, const char *current, const struct bx_logread_opts *o, bool timestamps,
		struct bx_err *err)
{
	struct bx_logread *r;
	if (bx_logread_open(box_dir, current, o, &r, err) < 0)
		return bx_cli_report(err);
	struct bx_log_entry e;
	enum bx_logread_res res;
	while ((res = bx_logread_next(r, &e)) != BX_LOGREAD_END) {
		if (res == BX_LOGREAD_ENTRY) {
			print_entry(&e, timestamps);
			bx_log_entry_free(&e);
			continue;
		}
		/* the box's directory changes with every write; the pause is a
		 * backstop for a missed event (and for --until) */
		struct pollfd pfd = {.fd = bx_logread_fd(r), .events = POLLIN};
		if (pfd.fd >= 0 && poll(&pfd, 1, 1000) > 0)
			bx_logread_ack(r);
		else if (pfd.fd < 0)
			poll(NULL, 0, 200);
	}
	bx_logread_close(r);
	return 0;
}

int cmd_logs(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_logread_opts o = {.tail = -1};
	bool timestamps = false;
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, logs_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_FOLLOW: o.follow = !val; break;
		case OPT_TIMESTAMPS: timestamps = !val; break;
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
			if (bx_time_flag("since", val, &o.since_ns, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_UNTIL:
			if (bx_time_flag("until", val, &o.until_ns, &err) < 0)
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
		return show(rec.box_dir, current, &o, timestamps, &err);
	}
	/* a --rm box that failed: its kept log (never followed: it is over) */
	struct bx_err e2;
	if (strstr(err.msg, "ambiguous") || bx_keptlog_find(&p, ref, current, sizeof(current), &e2) < 0)
		return bx_cli_report(&err);
	o.follow = false;
	return show(NULL, current, &o, timestamps, &err);
}
