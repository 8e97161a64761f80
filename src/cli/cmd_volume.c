/* boxvm volume create|ls|inspect|rm|prune: named volumes under DATA/volumes
 * (see vm/mounts.h). A volume referenced by any box (running or not) cannot
 * be removed, as in Docker; prune (prune.c) removes every unreferenced one. */
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <jansson.h>

#include "../common/boxid.h"
#include "../common/crashpoint.h"
#include "../store/state.h"
#include "../store/volumes.h"
#include "../vm/mounts.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"
#include "prune.h"
#include "template.h"

/* each subcommand its own flags, as Docker's (-f is --force for rm and
 * prune, --filter for ls, --format for inspect) */
enum { OPT_QUIET, OPT_FORCE, OPT_FORMAT, OPT_FILTER, OPT_DRIVER, OPT_HELP };
static const struct bx_opt vol_ls_opts[] = {
	{'q', "quiet", NULL, OPT_QUIET, "Only display volume names"},
	{'f', "filter", "filter", OPT_FILTER, "Filter output: dangling=true|false, name=SUBSTRING"},
	{0, "format", "string", OPT_FORMAT, "Format the output with a template, e.g. '{{.Name}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt vol_force_opts[] = {
	{'f', "force", NULL, OPT_FORCE, "No error for a missing volume"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt vol_create_opts[] = {
	{'d', "driver", "string", OPT_DRIVER, "Volume driver name (only \"local\")"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt vol_inspect_opts[] = {
	{'f', "format", "string", OPT_FORMAT, "Format the output with a template, e.g. '{{.Mountpoint}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static const struct bx_opt *opts_of(const char *sub)
{
	if (!strcmp(sub, "ls") || !strcmp(sub, "list"))
		return vol_ls_opts;
	if (!strcmp(sub, "inspect"))
		return vol_inspect_opts;
	if (!strcmp(sub, "create"))
		return vol_create_opts;
	return vol_force_opts;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((const char *)a, (const char *)b);
}

static void usage(void)
{
	bx_args_usage("boxvm volume COMMAND [OPTIONS] [NAME...]",
		      "Manage volumes.\n\nCommands:\n  create [NAME]   Create a volume (random name if none)\n"
		      "  ls              List volumes\n  inspect NAME... Display detailed information (JSON)\n"
		      "  rm NAME...      Remove volumes (fails for a volume a box uses)\n"
		      "  prune           Remove all volumes no box uses\n\n"
		      "Flags: ls [-q] [-f dangling=true|false|name=S] [--format T]; inspect [-f T];\n"
		      "rm [-f]; prune [-f] [--filter label=K[=V]|label!=K[=V]]; create [-d local]",
		      NULL);
}

static int inspect(const struct bx_paths *p, char **names, int n, const char *format)
{
	json_t *arr = json_array();
	int rc = 0;
	for (int i = 0; i < n; i++) {
		struct bx_err err = {0};
		json_t *o = bx_volume_inspect_json(p, names[i], &err);
		if (!o) {
			rc = bx_cli_report(&err); /* Docker: the others are still shown */
			continue;
		}
		json_array_append_new(arr, o);
	}
	cli_inspect_print(arr, format);
	json_decref(arr);
	return rc;
}

/* Docker 20.10's volume prune: every volume no box uses, named ones too. */
static int volume_prune(int argc, char **argv)
{
	static const char usage[] = "boxvm volume prune [OPTIONS]";
	struct bx_err err = {0};
	struct cli_prune_args a;
	struct bx_paths p;
	int r = cli_prune_args(argc, argv, usage, "Remove all volumes no box uses.", 0, BX_PRUNE_LABEL, &a, &err);
	if (r != 0) {
		bx_prune_filter_free(&a.filter);
		return r > 0 ? 0 : bx_cli_report(&err);
	}
	struct cli_pruned out = {0};
	if (a.force || cli_prune_confirm("WARNING! This will remove all local volumes not used by at least one container.\n"
					 "Are you sure you want to continue?")) {
		if (bx_paths_init(&p, &err) < 0) {
			bx_prune_filter_free(&a.filter);
			return bx_cli_report(&err);
		}
		cli_prune_volumes(&p, &a.filter, &out);
	}
	cli_pruned_print("Deleted Volumes:", &out);
	cli_prune_print_total(out.reclaimed);
	int rc = out.rc;
	cli_pruned_free(&out);
	bx_prune_filter_free(&a.filter);
	return rc;
}

int cmd_volume(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return 0; /* Docker: `volume` alone prints its usage and exits 0 */
	}
	const char *sub = argv[1];
	if (!strcmp(sub, "prune"))
		return volume_prune(argc - 1, argv + 1);
	struct bx_args a;
	int id, r;
	const char *val;
	const char *format = NULL;
	const char *dangling = NULL, *name_part = NULL;
	bool quiet = false, force = false;
	bx_args_init(&a, argc - 1, argv + 1);
	a.i = 1;
	while ((r = bx_args_next(&a, opts_of(sub), &id, &val, &err)) > 0) {
		if (id == OPT_HELP) {
			usage();
			return 0;
		}
		if (id == OPT_QUIET)
			quiet = true;
		if (id == OPT_FORCE)
			force = true;
		if (id == OPT_FORMAT)
			format = val;
		if (id == OPT_DRIVER && strcmp(val, "local")) {
			bx_fail(&err, 0, "volume driver \"%s\" is not supported: boxvm has the local driver only", val);
			return bx_cli_report(&err);
		}
		if (id == OPT_FILTER) {
			if (!strncmp(val, "dangling=", 9) && (!strcmp(val + 9, "true") || !strcmp(val + 9, "false") ||
							     !strcmp(val + 9, "1") || !strcmp(val + 9, "0"))) {
				dangling = val + 9;
			} else if (!strncmp(val, "name=", 5)) {
				name_part = val + 5;
			} else {
				bx_fail(&err, 0, "invalid filter '%s': use dangling=true|false or name=SUBSTRING", val);
				return bx_cli_report(&err);
			}
		}
	}
	if (r < 0 || cli_inspect_format_check(format, &err) < 0)
		return bx_cli_report(&err);
	char **rest = argv + 1 + a.i;
	int nrest = argc - 1 - a.i;
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);

	if (!strcmp(sub, "create")) {
		if (nrest > 1) {
			bx_fail(&err, 0, "\"volume create\" takes at most 1 argument: boxvm volume create [NAME]");
			return bx_cli_report(&err);
		}
		char name[80];
		if (nrest == 1)
			snprintf(name, sizeof(name), "%s", rest[0]);
		else if (bx_boxid_new(name, &err) < 0) /* Docker names an unnamed volume with 64 hex digits too */
			return bx_cli_report(&err);
		if (nrest == 1 && strlen(rest[0]) >= sizeof(name)) {
			bx_fail(&err, 0, "invalid volume name '%s': too long", rest[0]);
			return bx_cli_report(&err);
		}
		if (bx_volume_create(&p, name, NULL, NULL, 0, &err) < 0)
			return bx_cli_report(&err);
		printf("%s\n", name);
		return 0;
	}
	static char names[1024][BX_VOLUME_LIST_NAME];
	if (!strcmp(sub, "ls") || !strcmp(sub, "list")) {
		if (nrest > 0) {
			bx_fail(&err, 0, "\"volume ls\" accepts no arguments (see boxvm volume --help)");
			return bx_cli_report(&err);
		}
		int n = bx_volume_list(&p, names, 1024, &err);
		if (n < 0)
			return bx_cli_report(&err);
		qsort(names, (size_t)n, sizeof(names[0]), by_name); /* Docker lists them by name */
		if (format)
			quiet = false; /* a --format wins over -q, as in Docker */
		if (!quiet && !format)
			printf("%-10s%s\n", "DRIVER", "VOLUME NAME");
		for (int i = 0; i < n; i++) {
			if (name_part && !strstr(names[i], name_part))
				continue;
			if (dangling) {
				char users[512];
				if (bx_volume_users(&p, names[i], users, sizeof(users), &err) < 0)
					return bx_cli_report(&err);
				bool unused = !users[0];
				if (unused != (!strcmp(dangling, "true") || !strcmp(dangling, "1")))
					continue;
			}
			if (format) {
				char dir[PATH_MAX], mount[PATH_MAX + 8];
				if (bx_volume_dir(&p, names[i], dir, sizeof(dir), &err) < 0)
					return bx_cli_report(&err);
				snprintf(mount, sizeof(mount), "%s/_data", dir);
				json_t *row = json_pack("{s:s,s:s,s:s,s:s,s:s}", "Name", names[i], "Driver", "local", "Mountpoint",
							mount, "Scope", "local", "Labels", "");
				char *text = NULL;
				if (row && bx_template_render(format, row, &text, NULL) == 0)
					printf("%s\n", text);
				free(text);
				json_decref(row);
			} else {
				quiet ? printf("%s\n", names[i]) : printf("%-10s%s\n", "local", names[i]);
			}
		}
		return 0;
	}
	if (!strcmp(sub, "inspect")) {
		if (nrest < 1) {
			bx_fail(&err, 0, "\"volume inspect\" requires at least 1 argument: boxvm volume inspect NAME...");
			return bx_cli_report(&err);
		}
		return inspect(&p, rest, nrest, format);
	}
	if (!strcmp(sub, "rm") || !strcmp(sub, "remove")) {
		if (nrest < 1) {
			bx_fail(&err, 0, "\"volume rm\" requires at least 1 argument: boxvm volume rm NAME...");
			return bx_cli_report(&err);
		}
		int rc = 0;
		for (int i = 0; i < nrest; i++) {
			if (bx_volume_remove(&p, rest[i], force, &err) < 0)
				rc = bx_cli_report(&err);
			else
				printf("%s\n", rest[i]);
		}
		return rc;
	}
	bx_fail(&err, 0, "unknown volume command '%s' (create, ls, inspect, rm, prune)", sub);
	return bx_cli_report(&err);
}
