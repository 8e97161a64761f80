/* boxvm version [-f TEMPLATE]: the version line, or a template over
 * {"Client": {"Version", "Os", "Arch"}} as Docker's `version --format` takes. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "args.h"
#include "cli.h"
#include "inspect_out.h"

enum { OPT_FORMAT, OPT_HELP };
static const struct bx_opt version_opts[] = {
	{'f', "format", "string", OPT_FORMAT, "Format the output with a template, e.g. '{{.Client.Version}}'"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

int cmd_version(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	int id, r;
	const char *val, *format = NULL;
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, version_opts, &id, &val, &err)) > 0) {
		if (id == OPT_FORMAT)
			format = val;
		if (id == OPT_HELP) {
			bx_args_usage("boxvm version [OPTIONS]", "Show the boxvm version.", version_opts);
			return 0;
		}
	}
	if (r < 0 || cli_need_operands(&a, 0, 0, "boxvm version [OPTIONS]", &err) < 0 ||
	    cli_inspect_format_check(format, &err) < 0)
		return bx_cli_report(&err);
	if (!format) {
		printf("boxvm version %s\n", BOXVM_VERSION);
		return 0;
	}
	struct utsname u;
	uname(&u);
	json_t *all = json_pack("[{s:{s:s,s:s,s:s}}]", "Client", "Version", BOXVM_VERSION, "Os", "linux", "Arch",
				u.machine);
	cli_inspect_print(all, format);
	json_decref(all);
	return 0;
}
