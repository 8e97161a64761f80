/* boxvm, the program users run: `exec` runs here; every other command is
 * boxvm-cli (main.c), exec'd in this same process with the same argv, so
 * its pid, exit code, stdio and signals are the command's own.
 *
 * Why two programs: the whole CLI needs libcurl, gnutls, libmicrohttpd and
 * libarchive (with krb5, ldap, ICU and libstdc++ behind them), 47 shared
 * libraries whose dynamic linking alone took ~5.5 ms of CPU at every start
 * (perf: 95% in ld.so's symbol lookups and relocations). exec needs none of
 * them: linked with --as-needed this program loads a few, and an exec's
 * start-up shrinks to about a fifth (docs/ARCHITECTURE.md, "Exec latency").
 * Other commands pay one extra execve (~1 ms). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../common/paths.h"
#include "cli.h"

int main(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "exec"))
		return cmd_exec(argc - 1, argv + 1);
	/* next to this program in a build, libexec/boxvm once installed */
	struct bx_paths p;
	struct bx_err err = {0};
	char cli[PATH_MAX];
	if (bx_paths_init(&p, &err) < 0 || bx_path_join(cli, sizeof(cli), &err, "%s/boxvm-cli", p.libexec) < 0)
		return bx_cli_report(&err);
	execv(cli, argv);
	fprintf(stderr, "boxvm: cannot run %s: %s\n", cli, strerror(errno));
	return 1;
}
