/* boxvm system service [-H unix:///PATH | -H tcp://HOST:PORT --tlsverify
 * --tlscacert CA --tlscert CERT --tlskey KEY] [--timeout SECONDS]: serve
 * the Docker Engine API on a Unix socket, or over TCP with mutual TLS
 * (src/api/service.c), so that the docker CLI and the Docker SDKs drive boxvm. */
#include <stdio.h>
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
	bool tlsverify = false;
	struct bx_api_service o = {0};
	const struct bx_opt opts[] = {
		{'H', "host", "string", 0, "Socket to serve: unix:///PATH (default unix://RUN/docker.sock, RUN being "
					   "boxvm's runtime directory, /run/boxvm unless BOXVM_RUNTIME_DIR), or "
					   "tcp://HOST:PORT with --tlsverify", .str = &host},
		{0, "tlsverify", NULL, 0, "Serve TLS and require client certificates signed by --tlscacert (a TCP "
					  "listener needs it)", .on = &tlsverify},
		{0, "tlscacert", "string", 0, "CA certificate (PEM) that signs the clients' certificates", .str = &o.tls_ca},
		{0, "tlscert", "string", 0, "The service's TLS certificate (PEM)", .str = &o.tls_cert},
		{0, "tlskey", "string", 0, "The service's TLS key (PEM)", .str = &o.tls_key},
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
	char tcp_host[256], tcp_port[16];
	if (host && !strncmp(host, "tcp://", 6)) {
		/* TCP only with mutual TLS: whoever reaches the API drives boxvm as root */
		const char *hp = host + 6, *colon = strrchr(hp, ':');
		if (!colon || colon == hp || !colon[1] || strlen(colon + 1) >= sizeof(tcp_port) ||
		    (size_t)(colon - hp) >= sizeof(tcp_host)) {
			bx_fail(&err, 0, "invalid -H '%s': use tcp://HOST:PORT (e.g. tcp://127.0.0.1:2376)", host);
			return bx_cli_report(&err);
		}
		snprintf(tcp_host, sizeof(tcp_host), "%.*s", (int)(colon - hp), hp);
		if (tcp_host[0] == '[' && tcp_host[strlen(tcp_host) - 1] == ']') { /* [::1] */
			memmove(tcp_host, tcp_host + 1, strlen(tcp_host));
			tcp_host[strlen(tcp_host) - 1] = 0;
		}
		snprintf(tcp_port, sizeof(tcp_port), "%s", colon + 1);
		if (!tlsverify || !o.tls_ca || !o.tls_cert || !o.tls_key) {
			bx_fail(&err, 0, "-H %s needs --tlsverify with --tlscacert, --tlscert and --tlskey: a TCP listener "
					 "is served only with client certificates", host);
			return bx_cli_report(&err);
		}
		o.tcp_host = tcp_host;
		o.tcp_port = tcp_port;
	} else if (host) {
		if (strncmp(host, "unix://", 7) || host[7] != '/') {
			bx_fail(&err, 0, "invalid -H '%s': use unix:///PATH, or tcp://HOST:PORT with --tlsverify", host);
			return bx_cli_report(&err);
		}
		o.socket_path = host + 7;
	}
	if (tlsverify && !o.tcp_host) {
		bx_fail(&err, 0, "--tlsverify is for a TCP listener (-H tcp://HOST:PORT); the Unix socket needs none");
		return bx_cli_report(&err);
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
