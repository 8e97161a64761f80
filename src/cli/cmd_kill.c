/* boxvm kill [-s SIGNAL] BOX...: a signal to the main process inside the VM
 * (default KILL). KILL itself kills the VM at once (exit 137): nothing in a
 * wedged guest can delay it. KILL and the stop signal count as a user stop:
 * the restart policy stands down until the next start, as in Docker. */
#include <signal.h>
#include <stdio.h>

#include "../box/control.h"
#include "../store/boxconfig.h"
#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

static int kill_one(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, void *ctx, struct bx_err *err)
{
	return bx_box_kill(rec, *(int *)ctx, ref, err);
}

int cmd_kill(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int sig = SIGKILL;
	const char *signal = NULL;
	const struct bx_opt opts[] = {
		{'s', "signal", "string", 0, "Signal to send to the box (default KILL)", .str = &signal},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm kill [OPTIONS] BOX [BOX...]", "Kill one or more running boxes.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (signal && bx_signal_parse(signal, &sig, &err) < 0)
		return bx_cli_report(&err);
	if (cli_need_operands(&a, 1, -1, "boxvm kill [OPTIONS] BOX [BOX...]", &err) < 0)
		return bx_cli_report(&err);
	return cli_each_box(a.i, argc, argv, kill_one, &sig);
}
