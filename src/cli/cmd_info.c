#include <stdio.h>
#include <string.h>

#include "../lib/kernel.h"
#include "../lib/paths.h"
#include "../lib/vmspec.h"
#include "cli.h"

int cmd_info(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("Usage:  boxvm info\n\nShow the accelerator boxvm will use and why, the guest kernel, and its directories.\n");
		return 0;
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	char accel[8], why[512];
	if (bx_accel_detect(accel, why, sizeof(why), &err) < 0)
		return bx_cli_report(&err);
	printf("Version:         %s\n", BOXVM_VERSION);
	printf("Accelerator:     %s\n", accel);
	printf("Accelerator why: %s\n", why);
	struct bx_kernel k;
	struct bx_err kerr = {0};
	if (bx_kernel_find(&p, &k, &kerr) == 0) {
		printf("Kernel:          %s\n", k.version);
		printf("Kernel image:    %s\n", k.vmlinuz);
	} else {
		printf("Kernel:          not prepared (run 'boxvm kernel prepare')\n");
	}
	printf("Kernel dir:      %s\n", p.kernel);
	printf("Data dir:        %s\n", p.data);
	printf("Runtime dir:     %s\n", p.run);
	printf("Helpers dir:     %s\n", p.libexec);
	return 0;
}
