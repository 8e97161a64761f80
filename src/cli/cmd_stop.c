/* boxvm stop [-t SECONDS] [-s SIGNAL] BOX...   and   boxvm restart [-t SECONDS] BOX...
 * stop: the stop signal (--stop-signal / the image's StopSignal / SIGTERM) to
 * the main process inside the VM, then after the timeout the VM is killed
 * (exit 137). A stopped box is left alone, quietly, as Docker does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/boxconfig.h"
#include "../lib/state.h"
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
				bx_fail(&err, 0, "invalid --time '%s': use a number of seconds", val);
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
	if (a.i >= argc) {
		bx_fail(&err, 0, "\"%s\" requires at least 1 argument: boxvm %s [OPTIONS] BOX [BOX...]",
			restart ? "restart" : "stop", restart ? "restart" : "stop");
		return bx_cli_report(&err);
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	for (int i = a.i; i < argc; i++) {
		struct bx_box_record rec;
		struct bx_box_config cfg;
		if (bx_state_lookup(&p, argv[i], &rec, &err) < 0 || bx_box_config_read(rec.box_dir, &cfg, &err) < 0 ||
		    cli_box_stop(&rec, sig ? sig : cfg.stop_signal, timeout >= 0 ? timeout : cfg.stop_timeout, &err) < 0 ||
		    (restart && (bx_state_lookup(&p, rec.id, &rec, &err) < 0 ||
				 cli_box_start(&p, &rec, false, false, &err) < 0))) {
			rc = bx_cli_report(&err);
			continue;
		}
		printf("%s\n", argv[i]);
	}
	return rc;
}

int cmd_stop(int argc, char **argv)
{
	return stop_or_restart(argc, argv, false);
}

int cmd_restart(int argc, char **argv)
{
	return stop_or_restart(argc, argv, true);
}
