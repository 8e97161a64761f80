/* boxvm: Docker's everyday workflow, every box in its own microVM. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"run", cmd_run, "Create and run a box from an image"},
	{"load", cmd_load, "Load an image from an OCI layout or `docker save` tar archive"},
	{"images", cmd_images, "List images"},
	{"info", cmd_info, "Show the accelerator, kernel and directories boxvm uses"},
	{"kernel", cmd_kernel, "Prepare the guest kernel (kernel prepare)"},
	{"version", cmd_version, "Show the boxvm version"},
	{NULL, NULL, NULL},
};

int bx_cli_report(const struct bx_err *err)
{
	fprintf(stderr, "boxvm: %s\n", err->msg[0] ? err->msg : "unknown error");
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
