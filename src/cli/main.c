/* boxvm: Docker's everyday workflow, every box in its own microVM. */
#include <stdio.h>
#include <string.h>

#include "../lib/safetext.h"
#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"run", cmd_run, "Create and run a box from an image"},
	{"create", cmd_create, "Create a box without starting it"},
	{"start", cmd_start, "Start one or more stopped boxes"},
	{"stop", cmd_stop, "Stop one or more running boxes"},
	{"restart", cmd_restart, "Restart one or more boxes"},
	{"kill", cmd_kill, "Send a signal to (or kill) one or more running boxes"},
	{"pause", cmd_pause, "Freeze one or more running boxes (the whole VM)"},
	{"unpause", cmd_unpause, "Unfreeze one or more paused boxes"},
	{"wait", cmd_wait, "Block until boxes stop, then print their exit codes"},
	{"ps", cmd_ps, "List boxes"},
	{"logs", cmd_logs, "Fetch the logs of a box"},
	{"inspect", cmd_inspect, "Show low-level information on boxes (JSON)"},
	{"rm", cmd_rm, "Remove one or more boxes"},
	{"rename", cmd_rename, "Rename a box"},
	{"exec", cmd_exec, "Run a command in a running box"},
	{"attach", cmd_attach, "Attach to a running box's main process (detach: Ctrl-P Ctrl-Q)"},
	{"cp", cmd_cp, "Copy files between a box and the host"},
	{"port", cmd_port, "List port mappings of a box"},
	{"volume", cmd_volume, "Manage volumes (create, ls, inspect, rm, prune)"},
	{"top", cmd_top, "Show the processes running in a box"},
	{"stats", cmd_stats, "Display a live stream of boxes' resource usage (CPU, memory, I/O, PIDs)"},
	{"load", cmd_load, "Load an image from an OCI layout or `docker save` tar archive"},
	{"images", cmd_images, "List images"},
	{"image", cmd_image, "Manage images (inspect, prune, ls, rm, tag, save, load, pull)"},
	{"tag", cmd_tag, "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE"},
	{"rmi", cmd_rmi, "Remove one or more images"},
	{"save", cmd_save, "Save images to an OCI layout tar archive"},
	{"pull", cmd_pull, "Download an image from a registry"},
	{"login", cmd_login, "Log in to a registry"},
	{"logout", cmd_logout, "Log out from a registry"},
	{"info", cmd_info, "Show the accelerator, kernel and directories boxvm uses"},
	{"kernel", cmd_kernel, "Prepare the guest kernel (kernel prepare)"},
	{"version", cmd_version, "Show the boxvm version"},
	{NULL, NULL, NULL},
};

int bx_cli_report(const struct bx_err *err)
{
	/* messages may quote a guest or an image: never raw to the terminal */
	char text[BX_SAFE_TEXT_SIZE(sizeof(err->msg))];
	bx_safe_text(text, sizeof(text), err->msg, strnlen(err->msg, sizeof(err->msg)));
	fprintf(stderr, "boxvm: %s\n", text[0] ? text : "unknown error");
	return err->exit_code ? err->exit_code : BX_EXIT_ERROR;
}

static void usage(FILE *out)
{
	fprintf(out, "Usage:  boxvm [OPTIONS] COMMAND\n\n"
		     "Run boxes (containers), each in its own lightweight virtual machine.\n\n"
		     "Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-9s %s\n", c->name, c->summary);
	fprintf(out, "\nOptions:\n"
		     "  -h, --help      Print usage\n"
		     "  -v, --version   Print version information and quit\n"
		     "\nRun 'boxvm COMMAND --help' for more information on a command.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return BX_EXIT_ERROR;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(name, "-v") || !strcmp(name, "--version"))
		return cmd_version(1, argv + 1);
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "boxvm: '%s' is not a boxvm command (see 'boxvm --help')\n", name);
	return BX_EXIT_ERROR;
}
