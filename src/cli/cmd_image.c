/* boxvm image SUBCOMMAND: inspect and prune here; ls, rm, tag, save, load and
 * pull are the top-level commands under Docker's `image` names. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "../store/image_gc.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"

enum { OPT_HELP };
static const struct bx_opt help_only[] = {
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

/* Flags (only --help) and at least min positionals; returns 1 after printing help. */
static int parse(int argc, char **argv, int min, const char *usage, const char *summary, struct bx_args *a,
		 struct bx_err *err)
{
	int id, r;
	const char *val;
	bx_args_init(a, argc, argv);
	a->i = 1;
	while ((r = bx_args_next(a, help_only, &id, &val, err)) > 0)
		if (id == OPT_HELP) {
			bx_args_usage(usage, summary, help_only);
			return 1;
		}
	if (r < 0)
		return -1;
	if (argc - a->i < min)
		return bx_fail(err, 0, "\"image %s\" requires at least %d argument: %s", argv[0], min, usage);
	return 0;
}

enum { OPT_INSPECT_FORMAT = OPT_HELP + 1 };
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
		json_t *o = cli_image_inspect_json(&p, argv[i], &err);
		if (o)
			json_array_append_new(all, o);
		else
			rc = bx_cli_report(&err);
	}
	cli_inspect_print(all, format);
	json_decref(all);
	return rc;
}

static int image_prune(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	struct bx_paths p;
	struct bx_gc_stats st;
	int r = parse(argc, argv, 0, "boxvm image prune",
		      "Remove blobs, interrupted downloads and rootfs cache entries no image or box uses.", &a, &err);
	if (r != 0)
		return r > 0 ? 0 : bx_cli_report(&err);
	if (bx_paths_init(&p, &err) < 0 || bx_image_gc(&p, &st, &err) < 0)
		return bx_cli_report(&err);
	printf("Deleted blobs: %d, interrupted downloads: %d, rootfs cache entries: %d\n", st.blobs, st.incoming,
	       st.cache_entries);
	printf("Total reclaimed space: %.1fMB\n", (double)st.bytes / 1e6);
	return 0;
}

int cmd_image(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subs[] = {
		{"inspect", image_inspect}, {"prune", image_prune}, {"ls", cmd_images}, {"list", cmd_images},
		{"rm", cmd_rmi},           {"tag", cmd_tag},       {"save", cmd_save}, {"load", cmd_load},
		{"pull", cmd_pull},
	};
	if (argc >= 2)
		for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
			if (!strcmp(argv[1], subs[i].name))
				return subs[i].fn(argc - 1, argv + 1);
	/* Docker: no subcommand is help (exit 0), an unknown one exits 1 */
	bool help = argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
	fprintf(help ? stdout : stderr,
		"%sUsage: boxvm image COMMAND\n\nManage images.\n\nCommands:\n"
		"  inspect   Display detailed information on one or more images\n"
		"  ls        List images\n  prune     Remove unused blobs and rootfs cache entries\n"
		"  pull      Download an image from a registry\n  rm        Remove one or more images\n"
		"  save      Save images to an OCI layout tar\n  load      Load an image from a tar archive\n"
		"  tag       Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE\n",
		help ? "" : "boxvm: unknown image command\n");
	return help ? 0 : 1;
}
