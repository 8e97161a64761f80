/* boxvm top BOX [ps OPTIONS]: the box's processes, from ps inside the guest
 * (busybox or the image's own ps), as `docker top` runs ps on the host. */
#include <stdio.h>
#include <string.h>

#include "../client/exec_client.h"
#include "../client/top.h"
#include "cli.h"

int cmd_top(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		printf("Usage:  boxvm top BOX [ps OPTIONS]\n\n"
		       "Display the running processes of a box (ps runs inside its VM; default ps -o pid,ppid,user,stat,args).\n");
		return 0;
	}
	if (argc < 2) {
		bx_fail(&err, 0, "\"top\" requires at least 1 argument: boxvm top BOX [ps OPTIONS]");
		return bx_cli_report(&err);
	}
	struct bx_spec spec;
	bx_spec_init(&spec);
	int rc = BX_EXIT_ERROR;
	struct bx_box_record box;
	if (bx_cli_running_box(argv[1], "top", &box, &err) < 0 ||
	    bx_top_spec(&spec, argv + 2, (size_t)(argc - 2), &err) < 0)
		goto fail;
	struct bx_relay_opts o = {.in_fd = -1, .out_fd = 1, .err_fd = 2, .what = "box"};
	rc = bx_exec_run_internal(&box, &spec, &o, &err);
	if (rc < 0)
		goto fail;
	if (rc) {
		bx_fail(&err, 0, "ps in box %.12s failed (exit %d); check the ps options", box.id, rc);
		goto fail;
	}
	bx_spec_free(&spec);
	return 0;
fail:
	bx_spec_free(&spec);
	return bx_cli_report(&err);
}
