/* boxvm info [-f TEMPLATE]: the accelerator and why, the guest kernel, the
 * directories; with -f, a template over Docker's info keys that apply
 * (ServerVersion, Containers..., Images, Driver, DockerRootDir, NCPU,
 * MemTotal, OSType, Architecture, KernelVersion) and boxvm's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "../box/pool.h"
#include "../box/info.h"
#include "../common/paths.h"
#include "../image/image.h"
#include "../store/state.h"
#include "../vm/cgroup.h"
#include "../vm/kernel.h"
#include "../vm/vmspec.h"
#include "args.h"
#include "cli.h"
#include "inspect_out.h"

int cmd_info(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *format = NULL;
	const struct bx_opt opts[] = {
		{'f', "format", "string", 0, "Format the output with a template, e.g. '{{.ServerVersion}}'", .str = &format},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm info [OPTIONS]",
			   "Show the accelerator boxvm will use and why, the guest kernel, and its directories.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 0, 0, "boxvm info [OPTIONS]", &err) < 0 ||
	    cli_inspect_format_check(format, &err) < 0)
		return bx_cli_report(&err);
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	char accel[8], why[512];
	if (bx_accel_detect(accel, why, sizeof(why), &err) < 0)
		return bx_cli_report(&err);
	if (format) {
		struct bx_kernel k;
		json_t *all = json_pack("[o]", bx_box_info_json(&p, accel, why, bx_kernel_find(&p, &k, NULL) == 0 ? k.version : ""));
		cli_inspect_print(all, format);
		json_decref(all);
		return 0;
	}
	printf("Version:         %s\n", BOXVM_VERSION);
	printf("Accelerator:     %s\n", accel);
	printf("Accelerator why: %s\n", why);
	struct bx_kernel k;
	struct bx_err kerr = {0};
	bool tailored = !strcmp(p.kernel_kind, BX_KERNEL_TAILORED);
	if (bx_kernel_find(&p, &k, &kerr) == 0) {
		printf("Kernel:          %s (%s)\n", k.version, p.kernel_kind);
		printf("Kernel image:    %s\n", k.vmlinuz);
	} else {
		printf("Kernel:          %s (%s)\n",
		       tailored ? "not built (run 'boxvm kernel build')" : "not prepared (run 'boxvm kernel prepare')",
		       p.kernel_kind);
	}
	printf("Kernel dir:      %s\n", p.kernel);
	printf("Data dir:        %s\n", p.data);
	printf("Runtime dir:     %s\n", p.run);
	printf("Helpers dir:     %s\n", p.libexec);
	/* the host cgroup that holds each box's VM to its limits (src/vm/cgroup.h) */
	int version;
	char cg_why[256];
	unsigned ctl = bx_cgroup_support(&version, cg_why, sizeof(cg_why));
	printf("Cgroup Driver:   %s\n", ctl ? "cgroupfs" : "none");
	if (version)
		printf("Cgroup Version:  %d\n", version);
	/* the warm pool (src/box/pool.h): per profile, kept and ready now */
	struct bx_pool_config pc;
	struct bx_pool_vm *vms = NULL;
	int nvms = 0;
	if (bx_pool_config_read(&p, &pc, NULL) == 0 && bx_pool_list(&p, &vms, &nvms, NULL) == 0) {
		if (!pc.n)
			printf("Warm pool:       none (boxvm pool set SIZE)\n");
		for (int i = 0; i < pc.n; i++) {
			int ready = 0;
			for (int j = 0; j < nvms; j++)
				ready += vms[j].ready && vms[j].shim_pid && bx_pool_profile_same(&vms[j].profile, &pc.p[i]);
			printf("Warm pool:       %d of %d ready (%d MiB, %d vCPUs, network %s%s)\n", ready, pc.p[i].size,
			       pc.p[i].mem_mb, pc.p[i].cpus, pc.p[i].network ? "default" : "none",
			       pc.p[i].runtime ? ", for boxvm-runtime" : "");
		}
		free(vms);
	}
	fflush(stdout);
	if (cg_why[0]) /* once, as Docker's warnings: the boxes still run */
		fprintf(stderr, "WARNING: %s\n", cg_why);
	return 0;
}
