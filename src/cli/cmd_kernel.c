/* `boxvm kernel prepare`: fetch and unpack Debian's cloud kernel (see
 * scripts/prepare-kernel.sh, installed as libexec/boxvm-prepare-kernel). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/paths.h"
#include "cli.h"

int cmd_kernel(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("Usage:  boxvm kernel prepare\n\n"
		       "Download Debian's cloud kernel package (resolved from linux-image-cloud-amd64)\n"
		       "and unpack it into boxvm's kernel directory. Idempotent.\n");
		return argc < 2 ? 1 : 0;
	}
	if (strcmp(argv[1], "prepare")) {
		bx_fail(&err, 0, "unknown kernel subcommand '%s' (try 'boxvm kernel prepare')", argv[1]);
		return bx_cli_report(&err);
	}
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	char tool[PATH_MAX];
	if (bx_path_join(tool, sizeof(tool), &err, "%s/boxvm-prepare-kernel", p.libexec) < 0)
		return bx_cli_report(&err);
	pid_t pid = fork();
	if (pid < 0) {
		bx_fail(&err, errno, "fork");
		return bx_cli_report(&err);
	}
	if (pid == 0) {
		execl(tool, tool, p.kernel, (char *)NULL);
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
