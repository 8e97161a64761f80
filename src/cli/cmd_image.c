/* boxvm image SUBCOMMAND: inspect and prune (prune.c) here; ls, rm, tag, save, load and
 * pull are the top-level commands under Docker's `image` names. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../box/box_view.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"
#include "prune.h"

enum { OPT_HELP, OPT_INSPECT_FORMAT };
static const struct bx_opt inspect_opts[] = {
	{'f', "format", "string", OPT_INSPECT_FORMAT, "Format the output with a template, e.g. '{{.Config.Cmd}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static int image_inspect(int argc, char **argv)
{
	static const char usage[] = "boxvm image inspect [OPTIONS] IMAGE [IMAGE...]";
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_paths p;
	const char *val, *format = NULL;
	int id, r;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, inspect_opts, &id, &val, &err)) > 0) {
		if (id == OPT_INSPECT_FORMAT)
			format = val;
		if (id == OPT_HELP) {
			bx_args_usage(usage, "Display detailed information on one or more images (JSON).", inspect_opts);
			return 0;
		}
	}
	if (r < 0 || cli_inspect_format_check(format, &err) < 0 || cli_need_operands(&a, 1, -1, usage, &err) < 0 ||
	    bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	json_t *all = json_array();
	int rc = 0;
	for (int i = a.i; i < argc; i++) {
		json_t *o = bx_image_inspect_view(&p, argv[i], &err);
		if (o)
			json_array_append_new(all, o);
		else
			rc = bx_cli_report(&err);
	}
	cli_inspect_print(all, format);
	json_decref(all);
	return rc;
}

/* Docker's image prune: untagged images (-a: every image no box uses), then
 * what nothing references any more (blobs left by images whose last name
 * moved to another, old interrupted downloads, rootfs cache entries). */
static int image_prune(int argc, char **argv)
{
	static const char usage[] = "boxvm image prune [OPTIONS]";
	struct bx_err err = {0};
	struct cli_prune_args a;
	struct bx_paths p;
	int r = cli_prune_args(argc, argv, usage, "Remove unused images.", CLI_PRUNE_FLAG_ALL,
			       BX_PRUNE_UNTIL | BX_PRUNE_LABEL | BX_PRUNE_DANGLING, &a, &err);
	if (r != 0) {
		bx_prune_filter_free(&a.filter);
		return r > 0 ? 0 : bx_cli_report(&err);
	}
	bool all = a.all || a.filter.dangling == 0; /* Docker: dangling=false is -a */
	struct cli_pruned out = {0};
	if (a.force || cli_prune_confirm(all ? "WARNING! This will remove all images without at least one container "
					       "associated to them.\nAre you sure you want to continue?"
					     : "WARNING! This will remove all dangling images.\n"
					       "Are you sure you want to continue?")) {
		if (bx_paths_init(&p, &err) < 0) {
			bx_prune_filter_free(&a.filter);
			return bx_cli_report(&err);
		}
		cli_prune_images(&p, all, &a.filter, &out);
	}
	cli_pruned_print("Deleted Images:", &out);
	cli_prune_print_total(out.reclaimed);
	int rc = out.rc;
	cli_pruned_free(&out);
	bx_prune_filter_free(&a.filter);
	return rc;
}

int cmd_image(int argc, char **argv)
{
	static const struct cli_sub subs[] = {
		{"inspect", image_inspect}, {"prune", image_prune}, {"ls", cmd_images}, {"list", cmd_images},
		{"rm", cmd_rmi},           {"tag", cmd_tag},       {"save", cmd_save}, {"load", cmd_load},
		{"pull", cmd_pull},
		{"push", cmd_push},
	};
	return cli_subcommand(argc, argv, subs, sizeof(subs) / sizeof(subs[0]), "image",
			      "Manage images.\n\nCommands:\n"
			      "  inspect   Display detailed information on one or more images\n"
			      "  ls        List images\n  prune     Remove unused images (untagged ones; -a: every one no box uses)\n"
			      "  pull      Download an image from a registry\n  push      Upload an image to a registry\n  rm        Remove one or more images\n"
			      "  save      Save images to an OCI layout tar\n  load      Load an image from a tar archive\n"
			      "  tag       Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n");
}
