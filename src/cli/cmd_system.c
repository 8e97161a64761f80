/* boxvm system boot|df|ksm|prune|service (df, ksm, prune, service:
 * cmd_system_df.c, cmd_system_ksm.c, cmd_system_prune.c, cmd_system_service.c).
 *
 * boxvm system boot: what Docker's daemon does when it starts, as one command
 * an init system runs once at host boot (contrib/boxvm-boot.service).
 *
 * A reboot killed every shim and emptied the runtime dir. Listing the boxes
 * reconciles them (a dead shim's box is exited (137), a dead --rm box is
 * removed: state_proc.c); then every exited box whose restart policy brings
 * it back after a restart of the host (bx_restart_at_boot) is started again,
 * oldest first. A box that is running already is left alone, so running the
 * command twice starts nothing twice and fails on nothing. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/boxconfig.h"
#include "../store/state.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

enum { OPT_HELP };
static const struct bx_opt system_opts[] = {
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static void usage(void)
{
	bx_args_usage("boxvm system COMMAND",
		      "Manage boxvm as a whole.\n\nCommands:\n"
		      "  boot   Start every box whose restart policy brings it back after a host reboot\n"
		      "         (always; unless-stopped unless stopped by the user); run it once at boot\n"
		      "  df     Show disk usage (images, boxes, volumes, build cache)\n"
		      "  ksm    Turn the host's kernel samepage merging on or off, or show it (boxes' pages merged)\n"
		      "  prune  Remove stopped boxes, untagged images and, with --volumes, unused volumes\n"
		      "  service  Serve the Docker Engine API on a Unix socket (the docker CLI and SDKs drive boxvm)",
		      system_opts);
}

/* Someone else (a concurrent start) may have started the box between the
 * list and our start: that is the state we wanted, not a failure. */
static bool started_meanwhile(const struct bx_box_record *r)
{
	struct bx_box_record now;
	if (bx_state_read(r->box_dir, &now, NULL) < 0)
		return false;
	bx_state_reconcile(&now);
	return bx_box_status_live(now.status);
}

/* 1: started, 0: left as it is, -1: should have come back and did not (err). */
static int boot_box(const struct bx_paths *p, struct bx_box_record *r, struct bx_err *err)
{
	if (r->status != BX_BOX_EXITED)
		return 0; /* running, paused or restarting already; created; being removed */
	struct bx_box_config cfg;
	struct bx_err e;
	if (bx_box_config_read(r->box_dir, &cfg, &e) < 0)
		goto fail;
	if (!bx_restart_at_boot(&cfg.restart, r->manually_stopped, r->started_ns != 0))
		return 0;
	if (bx_box_start(p, r, false, false, &e) < 0) {
		if (started_meanwhile(r))
			return 0;
		goto fail;
	}
	return 1;
fail:
	/* e's message already ends with its errno's text: wrap it, do not append it again */
	if (err)
		*err = e;
	return bx_wrap(err, "cannot start box %s", r->name);
}

static int system_boot(void)
{
	struct bx_err err = {0};
	struct bx_paths p;
	struct bx_box_record *boxes = NULL;
	size_t n = 0;
	if (bx_paths_init(&p, &err) < 0 || bx_state_list(&p, &boxes, &n, &err) < 0)
		return bx_cli_report(&err);
	int rc = 0;
	for (size_t i = 0; i < n; i++) {
		int r = boot_box(&p, &boxes[i], &err);
		if (r < 0)
			rc = bx_cli_report(&err); /* one box's failure does not keep the others down */
		else if (r > 0)
			printf("%s\n", boxes[i].name);
		fflush(stdout);
	}
	free(boxes);
	return rc;
}

int cmd_system(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return 0; /* Docker: a command group alone prints its usage and exits 0 */
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "df"))
		return cmd_system_df(argc - 1, argv + 1);
	if (!strcmp(sub, "ksm"))
		return cmd_system_ksm(argc - 1, argv + 1);
	if (!strcmp(sub, "prune"))
		return cmd_system_prune(argc - 1, argv + 1);
	if (!strcmp(sub, "service"))
		return cmd_system_service(argc - 1, argv + 1);
	struct bx_args a;
	int id, r;
	const char *val;
	bx_args_init(&a, argc - 1, argv + 1);
	a.i = 1;
	while ((r = bx_args_next(&a, system_opts, &id, &val, &err)) > 0) {
		if (id == OPT_HELP) {
			usage();
			return 0;
		}
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (strcmp(sub, "boot")) {
		bx_fail(&err, 0, "unknown system command '%s' (boot, df, ksm, prune, service)", sub);
		return bx_cli_report(&err);
	}
	if (cli_need_operands(&a, 0, 0, "boxvm system boot", &err) < 0)
		return bx_cli_report(&err);
	return system_boot();
}
