/* boxvm stop [-t SECONDS] [-s SIGNAL] BOX...   and   boxvm restart [-t SECONDS] BOX...
 * stop: the stop signal (--stop-signal / the image's StopSignal / SIGTERM) to
 * the main process inside the VM, then after the timeout the VM is killed
 * (exit 137). A stopped box is left alone, quietly, as Docker does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/boxconfig.h"
#include "../store/events.h"
#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

enum { OPT_TIME, OPT_SIGNAL, OPT_HELP };
static const struct bx_opt stop_opts[] = {
	{'t', "time", "int", OPT_TIME, "Seconds to wait before killing the box (default: its --stop-timeout, 10)"},
	{'s', "signal", "string", OPT_SIGNAL, "Signal to send (default: the box's stop signal)"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

struct stop_req {
	int sig, timeout; /* 0 / -1: the box's own */
	bool restart;
};

static int stop_one(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, void *ctx, struct bx_err *err)
{
	const struct stop_req *q = ctx;
	struct bx_box_config cfg;
	if (bx_box_config_read(rec->box_dir, &cfg, err) < 0 ||
	    bx_box_stop(rec, q->sig ? q->sig : cfg.stop_signal, q->timeout >= 0 ? q->timeout : cfg.stop_timeout, err) < 0)
		return -1;
	if (!q->restart)
		return 0;
	if (bx_state_lookup(p, rec->id, rec, err) < 0 || bx_box_start(p, rec, false, false, err) < 0)
		return -1;
	bx_event_box(rec->box_dir, "restart", NULL, NULL); /* after its start, as Docker's */
	return 0;
}

static int stop_or_restart(int argc, char **argv, bool restart)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r, timeout = -1, sig = 0;
	const char *val;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, stop_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_TIME: {
			char *end;
			long v = strtol(val, &end, 10);
			if (end == val || *end || v < 0 || v > 86400) {
				/* Docker: an int flag that does not parse is a usage error (125) */
				bx_fail_code(&err, CLI_EXIT_BAD_FLAG, 0, "invalid --time '%s': use a number of seconds", val);
				return bx_cli_report(&err);
			}
			timeout = (int)v;
			break;
		}
		case OPT_SIGNAL:
			if (bx_signal_parse(val, &sig, &err) < 0)
				return bx_cli_report(&err);
			break;
		case OPT_HELP:
			if (restart)
				bx_args_usage("boxvm restart [OPTIONS] BOX [BOX...]", "Restart one or more boxes.", stop_opts);
			else
				bx_args_usage("boxvm stop [OPTIONS] BOX [BOX...]", "Stop one or more running boxes.", stop_opts);
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 1, -1, restart ? "boxvm restart [OPTIONS] BOX [BOX...]" : "boxvm stop [OPTIONS] BOX [BOX...]",
			      &err) < 0)
		return bx_cli_report(&err);
	struct stop_req q = {.sig = sig, .timeout = timeout, .restart = restart};
	return cli_each_box(a.i, argc, argv, stop_one, &q);
}

int cmd_stop(int argc, char **argv)
{
	return stop_or_restart(argc, argv, false);
}

int cmd_restart(int argc, char **argv)
{
	return stop_or_restart(argc, argv, true);
}
