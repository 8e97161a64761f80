/* boxvm version [-f TEMPLATE]: the version line, or a template over
 * {"Client": {"Version", "Os", "Arch"}} as Docker's `version --format` takes. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/utsname.h>

#include <jansson.h>

#include "args.h"
#include "cli.h"
#include "inspect_out.h"

int cmd_version(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *format = NULL;
	const struct bx_opt opts[] = {
		{'f', "format", "string", 0, "Format the output with a template, e.g. '{{.Client.Version}}'", .str = &format},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm version [OPTIONS]",
			   "Show the boxvm version.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 0, 0, "boxvm version [OPTIONS]", &err) < 0 ||
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
