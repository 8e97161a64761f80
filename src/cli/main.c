/* boxvm-cli: Docker's everyday workflow, every box in its own microVM. The
 * `boxvm` users run is front.c, which runs exec itself and hands every other
 * command to this program (same argv, same process). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/paths.h"
#include "../common/safetext.h"
#include "cli.h"

/* How a command's errors map to exit codes, as Docker 20.10's client does:
 * `run` exits 125 for its own errors and 126/127 for a command that cannot
 * be executed or found; every other command (`create` too) exits 1 on any
 * error. `exec` is one of them: a command it cannot start exits 126, but
 * that code comes from the box (the relay's EXIT), not from here; `exec -d`
 * of such a command exits 1, as Docker's does. Some errors
 * exit the same in every command (CLI_EXIT_ALWAYS): a flag that cannot be
 * parsed 125 (CLI_EXIT_BAD_FLAG), missing arguments 1 (CLI_EXIT_USAGE), an
 * inspect template that does not parse 64 (CLI_EXIT_BAD_TEMPLATE). */
struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	enum error_codes codes;
};

static const struct command commands[] = {
	{"run", cmd_run, "Create and run a box from an image", ERRORS_RUN},
	{"create", cmd_create, "Create a box without starting it", ERRORS_EXIT_1},
	{"start", cmd_start, "Start one or more stopped boxes", ERRORS_EXIT_1},
	{"stop", cmd_stop, "Stop one or more running boxes", ERRORS_EXIT_1},
	{"restart", cmd_restart, "Restart one or more boxes", ERRORS_EXIT_1},
	{"kill", cmd_kill, "Send a signal to (or kill) one or more running boxes", ERRORS_EXIT_1},
	{"pause", cmd_pause, "Freeze one or more running boxes (the whole VM)", ERRORS_EXIT_1},
	{"unpause", cmd_unpause, "Unfreeze one or more paused boxes", ERRORS_EXIT_1},
	{"wait", cmd_wait, "Block until boxes stop, then print their exit codes", ERRORS_EXIT_1},
	{"ps", cmd_ps, "List boxes", ERRORS_EXIT_1},
	{"logs", cmd_logs, "Fetch the logs of a box", ERRORS_EXIT_1},
	{"inspect", cmd_inspect, "Show low-level information on boxes (JSON)", ERRORS_EXIT_1},
	{"rm", cmd_rm, "Remove one or more boxes", ERRORS_EXIT_1},
	{"rename", cmd_rename, "Rename a box", ERRORS_EXIT_1},
	{"update", cmd_update, "Update the resource limits or restart policy of one or more boxes", ERRORS_EXIT_1},
	{"exec", cmd_exec, "Run a command in a running box", ERRORS_EXIT_1},
	{"attach", cmd_attach, "Attach to a running box's main process (detach: Ctrl-P Ctrl-Q)", ERRORS_EXIT_1},
	{"cp", cmd_cp, "Copy files between a box and the host", ERRORS_EXIT_1},
	{"port", cmd_port, "List port mappings of a box", ERRORS_EXIT_1},
	{"volume", cmd_volume, "Manage volumes (create, ls, inspect, rm, prune)", ERRORS_EXIT_1},
	{"network", cmd_network, "Manage networks (create, ls, inspect, rm, prune, connect, disconnect)", ERRORS_EXIT_1},
	{"top", cmd_top, "Show the processes running in a box", ERRORS_EXIT_1},
	{"stats", cmd_stats, "Display a live stream of boxes' resource usage (CPU, memory, I/O, PIDs)", ERRORS_EXIT_1},
	{"load", cmd_load, "Load an image from an OCI layout or `docker save` tar archive", ERRORS_EXIT_1},
	{"images", cmd_images, "List images", ERRORS_EXIT_1},
	{"image", cmd_image, "Manage images (inspect, prune, ls, rm, tag, save, load, pull, push)", ERRORS_EXIT_1},
	{"container", cmd_container, "Manage boxes (prune; ls, rm, start, ... as the top-level commands)", ERRORS_EXIT_1},
	{"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE", ERRORS_EXIT_1},
	{"rmi", cmd_rmi, "Remove one or more images", ERRORS_EXIT_1},
	{"save", cmd_save, "Save images to an OCI layout tar archive", ERRORS_EXIT_1},
	{"build", cmd_build, "Build an image from a Dockerfile (each RUN in a microVM)", ERRORS_EXIT_1},
	{"builder", cmd_builder, "Manage builds (prune the build cache)", ERRORS_EXIT_1},
	{"commit", cmd_commit, "Create a new image from a box's changes", ERRORS_EXIT_1},
	{"diff", cmd_diff, "Inspect changes to files or directories on a box's filesystem", ERRORS_EXIT_1},
	{"export", cmd_export, "Export a box's filesystem as a tar archive", ERRORS_EXIT_1},
	{"import", cmd_import, "Import the contents from a tarball to create a filesystem image", ERRORS_EXIT_1},
	{"history", cmd_history, "Show the history of an image", ERRORS_EXIT_1},
	{"pull", cmd_pull, "Download an image from a registry", ERRORS_EXIT_1},
	{"push", cmd_push, "Upload an image to a registry", ERRORS_EXIT_1},
	{"login", cmd_login, "Log in to a registry", ERRORS_EXIT_1},
	{"logout", cmd_logout, "Log out from a registry", ERRORS_EXIT_1},
	{"events", cmd_events, "Get real time events (and past ones: --since, --until)", ERRORS_EXIT_1},
	{"system", cmd_system, "Manage boxvm as a whole (boot after a host reboot, df, prune)", ERRORS_EXIT_1},
	{"info", cmd_info, "Show the accelerator, kernel and directories boxvm uses", ERRORS_EXIT_1},
	{"pool", cmd_pool, "Manage the warm pool of pre-booted VMs (set, ls, fill, drain)", ERRORS_EXIT_1},
	{"kernel", cmd_kernel, "Prepare or build the guest kernel (kernel prepare, kernel build)", ERRORS_EXIT_1},
	{"version", cmd_version, "Show the boxvm version", ERRORS_EXIT_1},
	{NULL, NULL, NULL, ERRORS_EXIT_1},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage:  boxvm [OPTIONS] COMMAND\n\n"
		     "Run boxes (containers), each in its own lightweight virtual machine.\n\n"
		     "Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\nOptions:\n"
		     "  -h, --help      Print usage\n"
		     "      --kernel string  Guest kernel: cloud (default) or tailored ('boxvm kernel build')\n"
		     "  -v, --version   Print version information and quit\n"
		     "\nRun 'boxvm COMMAND --help' for more information on a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) { /* Docker: the usage, on stdout, and 0 */
		usage(stdout);
		return 0;
	}
	/* --kernel KIND / --kernel=KIND: the guest kernel, for this command and
	 * every helper it starts (BOXVM_KERNEL, paths.h) */
	while (argc >= 2 && !strncmp(argv[1], "--kernel", 8) && (argv[1][8] == '\0' || argv[1][8] == '=')) {
		const char *kind = argv[1][8] == '=' ? argv[1] + 9 : argc >= 3 ? argv[2] : NULL;
		struct bx_err err = {0};
		if (bx_kernel_kind_check(kind, &err) < 0) {
			fprintf(stderr, "boxvm: %s\n", err.msg);
			return BX_EXIT_ERROR;
		}
		setenv("BOXVM_KERNEL", kind, 1);
		int used = argv[1][8] == '=' ? 1 : 2;
		argc -= used;
		argv += used;
		argv[0] = argv[-used];
	}
	if (argc < 2) {
		usage(stdout);
		return 0;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "-v") || !strcmp(name, "--version"))
		return cmd_version(1, argv + 1);
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name)) {
			cli_error_codes = c->codes;
			return c->fn(argc - 1, argv + 1);
		}
	if (name[0] == '-') { /* an unknown global flag: 125, as any flag */
		fprintf(stderr, "boxvm: unknown flag: %s (see 'boxvm --help')\n", name);
		return BX_EXIT_ERROR;
	}
	fprintf(stderr, "boxvm: '%s' is not a boxvm command (see 'boxvm --help')\n", name);
	return 1;
}
