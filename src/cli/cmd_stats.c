/* boxvm stats [--no-stream] [-a] [--no-trunc] [--format json|TEMPLATE] [BOX...]
 *
 * Two sources, as Docker has the container's cgroup:
 *  - CPU %: the host CPU time of the box's QEMU process (RUN/qemu.pid,
 *    src/store/vmproc.h) over the interval between two samples, in % of one
 *    host CPU: what the box really costs the host, vCPUs and device
 *    emulation included (virtiofsd and passt are not counted);
 *  - memory, network, block I/O and PIDs: the guest's own numbers, asked of
 *    the agent with one STATS message per box on the exec service (all boxes
 *    at once, each with a deadline, so a booting or wedged guest only shows
 *    "--" and never holds the others up).
 * Every frame needs two CPU samples about a second apart, so --no-stream
 * takes about a second (Docker's does too: its first sample is the daemon's
 * second). */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../client/relay.h"
#include "../client/stats_query.h"
#include "../common/cleanup.h"
#include "../common/clock.h"
#include "../common/paths.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "../proto/msg.h"
#include "../store/state.h"
#include "../store/vmproc.h"
#include "args.h"
#include "cli.h"
#include "stats_view.h"
#include "table.h"
#include "template.h"

#define INTERVAL_MS 1000
/* how long a frame waits for guests to answer: far above a healthy round
 * trip (milliseconds, tens under TCG on a busy host) */
#define GUEST_DEADLINE_MS 3000

enum { OPT_ALL, OPT_NO_STREAM, OPT_NO_TRUNC, OPT_FORMAT, OPT_HELP };
static const struct bx_opt stats_opts[] = {
	{'a', "all", NULL, OPT_ALL, "Show all boxes (default shows just running)"},
	{0, "no-stream", NULL, OPT_NO_STREAM, "Disable streaming stats and only pull the first result"},
	{0, "no-trunc", NULL, OPT_NO_TRUNC, "Do not truncate output"},
	{0, "format", "string", OPT_FORMAT, "Format output: 'json' or a template such as '{{.Name}} {{.CPUPerc}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

struct row {
	struct bx_box_record rec;
	char container[256]; /* the reference as given, or the ID when listing */
	bool seen;           /* still listed in this frame */
	/* the previous CPU sample */
	bool have_prev;
	uint64_t prev_cpu_ns;
	long long prev_ns;
	struct cli_stats_sample s;
	struct bx_stats_query q; /* the guest query of this frame */
};

struct stats {
	struct bx_paths p;
	bool all, no_trunc, stream;
	const char *format; /* NULL: the table */
	bool json, table_header;
	char **refs;        /* explicit BOX arguments (NULL: list boxes) */
	int nrefs;
	struct row *rows;
	size_t n;
};

static struct row *row_append(struct stats *st, const char *id, struct bx_err *err)
{
	struct row *nr = realloc(st->rows, (st->n + 1) * sizeof(*nr));
	if (!nr) {
		bx_fail(err, ENOMEM, "out of memory");
		return NULL;
	}
	st->rows = nr;
	struct row *r = &st->rows[st->n++];
	memset(r, 0, sizeof(*r));
	r->q.sock = -1;
	snprintf(r->rec.id, sizeof(r->rec.id), "%s", id);
	return r;
}

static struct row *row_for(struct stats *st, const char *id, struct bx_err *err)
{
	for (size_t i = 0; i < st->n; i++)
		if (!strcmp(st->rows[i].rec.id, id))
			return &st->rows[i];
	return row_append(st, id, err);
}

/* Which boxes this frame shows: the arguments (resolved again, so a restart
 * or removal shows), or every box that is up (-a: every box), newest first
 * as in ps; boxes started since the last frame join, removed ones leave. */
static int refresh(struct stats *st, struct bx_err *err)
{
	for (size_t i = 0; i < st->n; i++)
		st->rows[i].seen = false;
	if (st->refs) {
		for (int k = 0; k < st->nrefs; k++) {
			struct row *r = &st->rows[k];
			struct bx_box_record rec;
			r->seen = true;
			if (bx_state_lookup(&st->p, r->rec.id, &rec, NULL) == 0)
				r->rec = rec;
			else
				r->rec.status = BX_BOX_EXITED; /* removed meanwhile: zeros, as Docker */
		}
		return 0;
	}
	struct bx_box_record *boxes = NULL;
	size_t n = 0;
	if (bx_state_list(&st->p, &boxes, &n, err) < 0)
		return -1;
	for (size_t k = n; k-- > 0;) {
		if (!st->all && !bx_box_status_live(boxes[k].status))
			continue;
		struct row *r = row_for(st, boxes[k].id, err);
		if (!r) {
			free(boxes);
			return -1;
		}
		r->rec = boxes[k];
		r->seen = true;
		snprintf(r->container, sizeof(r->container), "%.*s", st->no_trunc ? 64 : 12, r->rec.id);
	}
	free(boxes);
	/* keep the listing order: newest first, departed rows dropped */
	size_t w = 0;
	for (size_t i = 0; i < st->n; i++)
		if (st->rows[i].seen)
			st->rows[w++] = st->rows[i];
	st->n = w;
	return 0;
}

static void query_start(struct row *r)
{
	r->s.guest_known = false;
	bx_stats_query_start(&r->q, &r->rec);
}

static void query_end(struct row *r)
{
	bx_stats_query_end(&r->q);
	if (r->q.known) {
		r->s.guest_known = true;
		r->s.g = r->q.g;
	}
}

static void cpu_sample(struct row *r)
{
	uint64_t cpu;
	long long now = bx_mono_ns();
	if (!r->s.running || bx_qemu_cpu_ns(r->rec.run_dir, &cpu) < 0) {
		r->have_prev = r->s.cpu_known = false;
		return;
	}
	/* a restart by the policy starts a new QEMU whose count starts over:
	 * that interval is unknown, the next one is measured again */
	r->s.cpu_known = r->have_prev && cpu >= r->prev_cpu_ns && now > r->prev_ns;
	if (r->s.cpu_known)
		r->s.cpu_pct = 100.0 * (double)(cpu - r->prev_cpu_ns) / (double)(now - r->prev_ns);
	r->have_prev = true;
	r->prev_cpu_ns = cpu;
	r->prev_ns = now;
}

/* One sample of every row: the guests are asked first and answer while the
 * CPU times are read. */
static int sample(struct stats *st, struct bx_err *err)
{
	for (size_t i = 0; i < st->n; i++) {
		struct row *r = &st->rows[i];
		r->s.running = bx_box_is_running(&r->rec);
		query_start(r);
	}
	for (size_t i = 0; i < st->n; i++)
		cpu_sample(&st->rows[i]);
	long long end = bx_mono_ns() + GUEST_DEADLINE_MS * 1000000LL;
	_cleanup_free_ struct pollfd *pf = calloc(st->n ? st->n : 1, sizeof(*pf));
	if (!pf)
		return bx_fail(err, ENOMEM, "out of memory");
	for (;;) {
		size_t np = 0;
		for (size_t i = 0; i < st->n; i++)
			if (st->rows[i].q.sock >= 0)
				pf[np++] = (struct pollfd){.fd = st->rows[i].q.sock, .events = POLLIN};
		long long left = (end - bx_mono_ns()) / 1000000LL;
		if (!np || left <= 0)
			break;
		if (poll(pf, np, (int)left) < 0 && errno != EINTR)
			break;
		for (size_t i = 0; i < st->n; i++)
			if (st->rows[i].q.sock >= 0)
				bx_stats_query_read(&st->rows[i].q);
	}
	for (size_t i = 0; i < st->n; i++)
		query_end(&st->rows[i]); /* past the deadline: "--" this frame */
	return 0;
}

static json_t *row_json(const struct stats *st, const struct row *r)
{
	char id[65];
	snprintf(id, sizeof(id), "%.*s", st->no_trunc ? 64 : 12, r->rec.id);
	return cli_stats_json(r->container, id, r->rec.name, &r->s);
}

static const char *const COLS[] = {"ID", "Name", "CPUPerc", "MemUsage", "MemPerc", "NetIO", "BlockIO", "PIDs"};
static const char *const TITLES[] = {"CONTAINER ID", "NAME",    "CPU %",     "MEM USAGE / LIMIT",
				     "MEM %",        "NET I/O", "BLOCK I/O", "PIDS"};
#define NCOLS 8

/* Docker's table: its header, columns laid out as its tabwriter does (table.h). */
static int print_table(const struct stats *st, json_t **objs, struct bx_err *err)
{
	struct cli_table t;
	cli_table_init(&t, NCOLS);
	cli_table_add(&t, TITLES);
	for (size_t i = 0; i < st->n; i++) {
		const char *cells[NCOLS];
		for (int c = 0; c < NCOLS; c++)
			cells[c] = json_string_value(json_object_get(objs[i], COLS[c]));
		cli_table_add(&t, cells);
	}
	return cli_table_flush(&t, stdout, err);
}

/* Docker's "table TEMPLATE": a header of column titles, cells laid out as its tabwriter does */
static int print_template_table(const struct stats *st, json_t **objs, struct bx_err *err)
{
	json_t *h = json_object();
	for (int c = 0; c < NCOLS; c++)
		json_object_set_new(h, COLS[c], json_string(TITLES[c]));
	json_object_set_new(h, "Container", json_string("CONTAINER"));
	struct cli_table t;
	cli_table_start(&t, st->format, h);
	json_decref(h);
	for (size_t i = 0; i < st->n; i++)
		cli_table_add_rendered(&t, st->format, objs[i]);
	return cli_table_flush(&t, stdout, err);
}

static int print_frame(const struct stats *st, bool clear, struct bx_err *err)
{
	int rc = 0;
	json_t **objs = calloc(st->n ? st->n : 1, sizeof(*objs));
	if (!objs)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; i < st->n && rc == 0; i++)
		if (!(objs[i] = row_json(st, &st->rows[i])))
			rc = bx_fail(err, ENOMEM, "out of memory");
	if (rc == 0 && clear)
		fputs("\033[2J\033[H", stdout);
	if (rc == 0 && !st->format)
		rc = print_table(st, objs, err);
	else if (rc == 0 && st->table_header)
		rc = print_template_table(st, objs, err);
	for (size_t i = 0; rc == 0 && st->format && !st->table_header && i < st->n; i++) {
		_cleanup_free_ char *t = st->json ? json_dumps(objs[i], JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
		if (st->json && !t)
			rc = bx_fail(err, ENOMEM, "out of memory");
		else if (!st->json)
			rc = bx_template_render(st->format, objs[i], &t, err);
		if (rc == 0)
			printf("%s\n", t);
	}
	for (size_t i = 0; i < st->n; i++)
		json_decref(objs[i]);
	free(objs);
	fflush(stdout);
	return rc;
}

static void sleep_until(long long t_ns)
{
	for (;;) {
		long long left = t_ns - bx_mono_ns();
		if (left <= 0)
			return;
		struct timespec ts = {left / 1000000000LL, left % 1000000000LL};
		nanosleep(&ts, NULL);
	}
}

int cmd_stats(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct stats st = {.stream = true};
	int id, r;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, stats_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_ALL: st.all = !val; break;
		case OPT_NO_STREAM: st.stream = !!val; break;
		case OPT_NO_TRUNC: st.no_trunc = !val; break;
		case OPT_FORMAT: st.format = val; break;
		case OPT_HELP:
			bx_args_usage("boxvm stats [OPTIONS] [BOX...]",
				      "Display a live stream of boxes' resource usage statistics (CPU % is the VM's\n"
				      "host CPU time, in % of one host CPU; memory, network, block I/O and PIDs are\n"
				      "the guest's own; --no-stream takes one sample over about a second).",
				      stats_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (st.format && !strncmp(st.format, "table", 5) && (!st.format[5] || st.format[5] == ' ')) {
		st.format += 5 + (st.format[5] == ' '); /* Docker's "table TEMPLATE": a header, then rows */
		st.table_header = true;
		if (!*st.format)
			st.format = NULL, st.table_header = false; /* plain "table": the default */
	}
	st.json = st.format && !strcmp(st.format, "json");
	if (st.format && !st.json && bx_template_check(st.format, &err) < 0)
		return bx_cli_report(&err);
	if (bx_paths_init(&st.p, &err) < 0)
		return bx_cli_report(&err);
	if (a.i < argc) {
		/* every name must resolve before anything is shown, as Docker */
		st.refs = argv + a.i;
		st.nrefs = argc - a.i;
		for (int k = 0; k < st.nrefs; k++) {
			struct bx_box_record rec;
			if (bx_state_lookup(&st.p, st.refs[k], &rec, &err) < 0) {
				free(st.rows);
				return bx_cli_report(&err);
			}
			/* the same box named twice is shown twice, as Docker does */
			struct row *row = row_append(&st, rec.id, &err);
			if (!row)
				goto fail;
			snprintf(row->container, sizeof(row->container), "%s", st.refs[k]);
		}
	}
	bool clear = st.stream && isatty(1);
	if (refresh(&st, &err) < 0)
		goto fail;
	/* the first CPU sample only starts the interval */
	for (size_t i = 0; i < st.n; i++) {
		st.rows[i].s.running = bx_box_is_running(&st.rows[i].rec);
		cpu_sample(&st.rows[i]);
	}
	long long next = bx_mono_ns() + INTERVAL_MS * 1000000LL;
	for (;;) {
		sleep_until(next);
		next = bx_mono_ns() + INTERVAL_MS * 1000000LL;
		if (sample(&st, &err) < 0 || print_frame(&st, clear, &err) < 0)
			goto fail;
		if (!st.stream)
			break;
		if (refresh(&st, &err) < 0)
			goto fail;
		/* a newly listed box gets its first CPU sample now */
		for (size_t i = 0; i < st.n; i++)
			if (!st.rows[i].have_prev) {
				st.rows[i].s.running = bx_box_is_running(&st.rows[i].rec);
				cpu_sample(&st.rows[i]);
			}
	}
	free(st.rows);
	return 0;
fail:
	free(st.rows);
	return bx_cli_report(&err);
}
