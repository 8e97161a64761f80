/* boxvm system service [-H unix:///PATH] [--timeout SECONDS]: serve the
 * Docker Engine API on a Unix socket (src/api/service.c), so that the docker
 * CLI and the Docker SDKs drive boxvm. */
#include <stdlib.h>
#include <string.h>

#include "../api/service.h"
#include "args.h"
#include "cli.h"

int cmd_system_service(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *host = NULL, *timeout = NULL;
	const struct bx_opt opts[] = {
		{'H', "host", "string", 0, "Socket to serve: unix:///PATH (default unix://RUN/docker.sock, RUN being "
					   "boxvm's runtime directory, /run/boxvm unless BOXVM_RUNTIME_DIR)", .str = &host},
		{0, "timeout", "int", 0, "Exit after this many seconds without a connection (default 0: never)", .str = &timeout},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, "boxvm system service [OPTIONS]",
			   "Serve the Docker Engine API (v1.41) on a Unix socket, for the docker CLI and the\n"
			   "Docker SDKs: export DOCKER_HOST=unix:///run/boxvm/docker.sock", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 0, 0, "boxvm system service [OPTIONS]", &err) < 0)
		return bx_cli_report(&err);
	struct bx_api_service o = {0};
	if (host) {
		/* only a Unix socket: a TCP listener would need TLS client certificates (not served) */
		if (strncmp(host, "unix://", 7) || host[7] != '/') {
			bx_fail(&err, 0, "invalid -H '%s': use unix:///PATH (boxvm serves the API on a Unix socket only)", host);
			return bx_cli_report(&err);
		}
		o.socket_path = host + 7;
	}
	if (timeout) {
		char *end;
		long t = strtol(timeout, &end, 10);
		if (end == timeout || *end || t < 0 || t > 86400 * 365) {
			bx_fail(&err, 0, "invalid --timeout '%s': use a number of seconds (0: never)", timeout);
			return bx_cli_report(&err);
		}
		o.timeout_s = (int)t;
	}
	if (bx_api_serve(&o, &err) < 0)
		return bx_cli_report(&err);
	return 0;
}
