/* `boxvm kernel prepare`: fetch and unpack Debian's cloud kernel (see
 * scripts/prepare-kernel.sh, installed as libexec/boxvm-prepare-kernel).
 * `boxvm kernel build`: build boxvm's tailored kernel from Debian's
 * linux-source with the config fragment data/kernel/boxvm.config (see
 * scripts/build-kernel.sh, libexec/boxvm-build-kernel and
 * libexec/boxvm-kernel.config). Each writes its own kind's directory,
 * whichever kind BOXVM_KERNEL selects for booting. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/paths.h"
#include "cli.h"

static int run_tool(const char *tool, const char *dir, const char *arg)
{
	struct bx_err err = {0};
	pid_t pid = fork();
	if (pid < 0) {
		bx_fail(&err, errno, "fork");
		return bx_cli_report(&err);
	}
	if (pid == 0) {
		execl(tool, tool, dir, arg, (char *)NULL);
		fprintf(stderr, "boxvm: cannot run %s: %s\n", tool, strerror(errno));
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return cli_error_exit();
	return 0;
}

int cmd_kernel(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("Usage:  boxvm kernel prepare|build\n\n"
		       "prepare  Download Debian's cloud kernel package (resolved from linux-image-cloud-amd64)\n"
		       "         and unpack it into boxvm's kernel directory. Idempotent.\n"
		       "build    Build boxvm's tailored kernel (everything built in, faster boots) from\n"
		       "         Debian's linux-source package; select it with 'boxvm --kernel tailored'.\n"
		       "         About 11 minutes on 2 cores; an unchanged config is not rebuilt.\n");
		return argc < 2 ? 1 : 0;
	}
	bool build = !strcmp(argv[1], "build");
	if (!build && strcmp(argv[1], "prepare")) {
		bx_fail(&err, 0, "unknown kernel subcommand '%s' (try 'boxvm kernel prepare' or 'boxvm kernel build')",
			argv[1]);
		return bx_cli_report(&err);
	}
	struct bx_paths p;
	char tool[PATH_MAX], dir[PATH_MAX], config[PATH_MAX];
	if (bx_paths_init(&p, &err) < 0 ||
	    bx_kernel_dir_of(&p, build ? BX_KERNEL_TAILORED : BX_KERNEL_CLOUD, dir, sizeof(dir), &err) < 0 ||
	    bx_path_join(tool, sizeof(tool), &err, "%s/%s", p.libexec,
			 build ? "boxvm-build-kernel" : "boxvm-prepare-kernel") < 0 ||
	    bx_path_join(config, sizeof(config), &err, "%s/boxvm-kernel.config", p.libexec) < 0)
		return bx_cli_report(&err);
	return run_tool(tool, dir, build ? config : NULL);
}
