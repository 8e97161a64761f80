/* boxvm stop [-t SECONDS] [-s SIGNAL] BOX...   and   boxvm restart [-t SECONDS] BOX...
 * stop: the stop signal (--stop-signal / the image's StopSignal / SIGTERM) to
 * the main process inside the VM, then after the timeout the VM is killed
 * (exit 137). A stopped box is left alone, quietly, as Docker does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../box/rename.h"
#include "../store/boxconfig.h"
#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"


struct stop_req {
	int sig, timeout; /* 0 / -1: the box's own */
	bool restart;
};

static int stop_one(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, void *ctx, struct bx_err *err)
{
	const struct stop_req *q = ctx;
	if (q->restart)
		return bx_box_restart(p, rec, q->sig, q->timeout, err);
	struct bx_box_config cfg;
	if (bx_box_config_read(rec->box_dir, &cfg, err) < 0 ||
	    bx_box_stop(rec, q->sig ? q->sig : cfg.stop_signal, q->timeout >= 0 ? q->timeout : cfg.stop_timeout, err) < 0)
		return -1;
	return 0;
}

static int stop_or_restart(int argc, char **argv, bool restart)
{
	struct bx_err err = {0};
	struct bx_args a;
	int timeout = -1, sig = 0;
	const char *time = NULL, *signal = NULL;
	const struct bx_opt opts[] = {
		{'t', "time", "int", 0, "Seconds to wait before killing the box (default: its --stop-timeout, 10)", .str = &time},
		{'s', "signal", "string", 0, "Signal to send (default: the box's stop signal)", .str = &signal},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts,
			  restart ? "boxvm restart [OPTIONS] BOX [BOX...]" : "boxvm stop [OPTIONS] BOX [BOX...]",
			  restart ? "Restart one or more boxes." : "Stop one or more running boxes.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (time) {
		char *end;
		long v = strtol(time, &end, 10);
		if (end == time || *end || v < 0 || v > 86400) {
			/* Docker: an int flag that does not parse is a usage error (125) */
			bx_fail_code(&err, CLI_EXIT_BAD_FLAG, 0, "invalid --time '%s': use a number of seconds", time);
			return bx_cli_report(&err);
		}
		timeout = (int)v;
	}
	if (signal && bx_signal_parse(signal, &sig, &err) < 0)
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
