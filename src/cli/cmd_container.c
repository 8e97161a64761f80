/* boxvm container SUBCOMMAND: prune here; the others are the top-level
 * commands under Docker's `container` names (ls, rm, start, ...); not run,
 * whose errors exit 125, which only the top-level `run` knows (main.c). */
#include <stdio.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "prune.h"

static int container_prune(int argc, char **argv)
{
	static const char usage[] = "boxvm container prune [OPTIONS]";
	struct bx_err err = {0};
	struct cli_prune_args a;
	struct bx_paths p;
	int r = cli_prune_args(argc, argv, usage, "Remove all stopped boxes.", 0, BX_PRUNE_UNTIL | BX_PRUNE_LABEL, &a,
			       &err);
	if (r != 0) {
		bx_prune_filter_free(&a.filter);
		return r > 0 ? 0 : bx_cli_report(&err);
	}
	struct cli_pruned out = {0};
	/* Docker: a "no" still prints the (nil) total, and exits 0 */
	if (a.force || cli_prune_confirm("WARNING! This will remove all stopped containers.\n"
					 "Are you sure you want to continue?")) {
		if (bx_paths_init(&p, &err) < 0) {
			bx_prune_filter_free(&a.filter);
			return bx_cli_report(&err);
		}
		cli_prune_boxes(&p, &a.filter, &out);
	}
	cli_pruned_print("Deleted Containers:", &out);
	cli_prune_print_total(out.reclaimed);
	int rc = out.rc;
	cli_pruned_free(&out);
	bx_prune_filter_free(&a.filter);
	return rc;
}

int cmd_container(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{"prune", container_prune}, {"ls", cmd_ps},         {"list", cmd_ps},         {"ps", cmd_ps},
		{"create", cmd_create}, {"start", cmd_start},     {"stop", cmd_stop},
		{"restart", cmd_restart},   {"kill", cmd_kill},     {"pause", cmd_pause},     {"unpause", cmd_unpause},
		{"wait", cmd_wait},         {"logs", cmd_logs},     {"inspect", cmd_inspect}, {"rm", cmd_rm},
		{"rename", cmd_rename},     {"exec", cmd_exec},     {"attach", cmd_attach},   {"cp", cmd_cp},
		{"port", cmd_port},         {"top", cmd_top},       {"stats", cmd_stats},
	};
	return cli_subcommand(argc, argv, subs, sizeof(subs) / sizeof(subs[0]), "container",
			      "Manage boxes.\n\nCommands:\n"
			      "  prune     Remove all stopped boxes\n"
			      "  ls, attach, cp, create, exec, inspect, kill, logs, pause, port, rename, restart, rm,\n"
			      "  start, stats, stop, top, unpause, wait: the top-level commands of the same names\n");
}
