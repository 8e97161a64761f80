/* boxvm events [--since T] [--until T] [-f K=V]... [--format F]: the event
 * log (src/store/events.h) as Docker's `events` shows it. Without --until
 * it follows new events (inotify on DATA, where the log lives) until it is
 * killed or its output goes away; with --until in the future, until then. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "../common/clock.h"
#include "../common/paths.h"
#include "../store/events.h"
#include "args.h"
#include "cli.h"
#include "template.h"
#include "../store/timearg.h"

enum { OPT_SINCE, OPT_UNTIL, OPT_FILTER, OPT_FORMAT, OPT_HELP };
static const struct bx_opt events_opts[] = {
	{'f', "filter", "filter", OPT_FILTER, "Filter output based on conditions provided (type=, event=, container=, image=, label=, volume=, network=)"},
	{0, "format", "string", OPT_FORMAT, "Format the output: 'json' or a Go template such as '{{json .}}'"},
	{0, "since", "string", OPT_SINCE, "Show all events created since timestamp (2026-11-28T10:00:00Z, unix seconds, or 10m ago)"},
	{0, "until", "string", OPT_UNTIL, "Stream events until this timestamp"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

struct show {
	struct bx_event_filter filter;
	const char *format;   /* NULL: Docker's line */
	bool has_since, has_until;
	long long since_ns, until_ns;
	bool quiet_skip;      /* the records already there are only skipped (no --since/--until) */
	bool out_gone;        /* stdout closed: stop */
	struct bx_err err;
};

static int print_event(void *ctx, const struct bx_event *ev)
{
	struct show *s = ctx;
	if (s->quiet_skip)
		return 0;
	/* both ends included, as Docker's daemon compares them */
	if ((s->has_since && ev->time_ns < s->since_ns) || (s->has_until && ev->time_ns > s->until_ns) ||
	    !bx_event_filter_match(&s->filter, ev))
		return 0;
	char *text = NULL;
	if (s->format) {
		json_t *o = bx_event_json(ev, false);
		if (!o || bx_template_render_fold(s->format, o, &text, &s->err) < 0) {
			json_decref(o);
			return -1;
		}
		json_decref(o);
	} else {
		text = bx_event_format_line(ev);
		if (!text)
			return bx_fail(&s->err, ENOMEM, "out of memory");
	}
	int ok = fputs(text, stdout) != EOF && fputc('\n', stdout) != EOF && fflush(stdout) != EOF;
	free(text);
	if (!ok) { /* the reader went away (SIGPIPE ignored): end quietly */
		s->out_gone = true;
		return 1;
	}
	return 0;
}

static int finish(struct show *s, struct bx_events_reader *r, int ifd, int rc)
{
	bx_events_reader_close(r);
	if (ifd >= 0)
		close(ifd);
	bx_event_filter_free(&s->filter);
	if (rc < 0)
		return bx_cli_report(&s->err);
	return 0;
}

int cmd_events(int argc, char **argv)
{
	struct show s = {0};
	struct bx_events_reader rd = {.fd = -1};
	struct bx_args a;
	int id, r;
	const char *val, *since_text = NULL, *until_text = NULL;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, events_opts, &id, &val, &s.err)) > 0) {
		switch (id) {
		case OPT_SINCE:
			if (bx_time_flag("since", val, &s.since_ns, &s.err) < 0)
				return finish(&s, &rd, -1, -1);
			s.has_since = true;
			since_text = val;
			break;
		case OPT_UNTIL:
			if (bx_time_flag("until", val, &s.until_ns, &s.err) < 0)
				return finish(&s, &rd, -1, -1);
			s.has_until = true;
			until_text = val;
			break;
		case OPT_FILTER:
			if (bx_event_filter_add(&s.filter, val, &s.err) < 0) {
				s.err.exit_code = CLI_EXIT_BAD_FLAG; /* Docker: a flag it cannot parse, 125 */
				return finish(&s, &rd, -1, -1);
			}
			break;
		case OPT_FORMAT:
			s.format = val[0] ? val : NULL;
			break;
		case OPT_HELP:
			bx_args_usage("boxvm events [OPTIONS]", "Get real time events from boxvm.", events_opts);
			bx_event_filter_free(&s.filter);
			return 0;
		}
	}
	if (r < 0 || cli_need_operands(&a, 0, 0, "boxvm events [OPTIONS]", &s.err) < 0)
		return finish(&s, &rd, -1, -1);
	/* as `ps --format json`: one JSON object a line */
	if (s.format && !strcmp(s.format, "json"))
		s.format = "{{json .}}";
	if (s.format && bx_template_check(s.format, &s.err) < 0) {
		bx_wrap(&s.err, "Error parsing format");
		s.err.exit_code = CLI_EXIT_BAD_TEMPLATE; /* 64, as Docker's events */
		return finish(&s, &rd, -1, -1);
	}
	if (s.has_since && s.has_until && s.since_ns > s.until_ns) {
		bx_fail(&s.err, 0, "`since` time (%s) cannot be after `until` time (%s)", since_text, until_text);
		return finish(&s, &rd, -1, -1);
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &s.err) < 0 || bx_mkdir_p(p.data, 0700, &s.err) < 0)
		return finish(&s, &rd, -1, -1);
	bool follow = !s.has_until || s.until_ns > bx_real_ns();
	int ifd = -1;
	if (follow) {
		/* watched before the first read: nothing appended after it is missed */
		ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (ifd < 0 || inotify_add_watch(ifd, p.data, IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE) < 0) {
			bx_fail(&s.err, errno, "cannot watch %s for events", p.data);
			return finish(&s, &rd, ifd, -1);
		}
	}
	bx_events_reader_init(&rd, p.data);
	/* Docker: with neither --since nor --until, only what happens from now on */
	s.quiet_skip = !s.has_since && !s.has_until;
	int rc = bx_events_reader_poll(&rd, print_event, &s, &s.err);
	s.quiet_skip = false;
	while (rc == 0 && follow) {
		int wait = -1;
		if (s.has_until) {
			long long left = (s.until_ns - bx_real_ns()) / 1000000 + 1;
			if (left <= 0)
				break;
			wait = left > 60000 ? 60000 : (int)left;
		}
		struct pollfd pfd = {.fd = ifd, .events = POLLIN};
		int n = poll(&pfd, 1, wait);
		if (n < 0 && errno != EINTR) {
			rc = bx_fail(&s.err, errno, "cannot wait for events");
			break;
		}
		if (n > 0) {
			char buf[4096];
			while (read(ifd, buf, sizeof(buf)) > 0)
				;
		}
		rc = bx_events_reader_poll(&rd, print_event, &s, &s.err);
	}
	/* the last ones before --until */
	if (rc == 0 && follow && s.has_until)
		rc = bx_events_reader_poll(&rd, print_event, &s, &s.err);
	return finish(&s, &rd, ifd, s.out_gone ? 0 : rc);
}
