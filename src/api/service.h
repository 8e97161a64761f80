/* `boxvm system service`: the Docker Engine API on a Unix socket, a third
 * front end over the box library (docs/ARCHITECTURE.md, "Engine API"). */
#ifndef BOXVM_API_SERVICE_H
#define BOXVM_API_SERVICE_H

#include "../common/err.h"

struct bx_api_service {
	const char *socket_path; /* NULL: RUN/docker.sock */
	int timeout_s;           /* exit after this long with no request (0: never) */
	/* instead of the socket: TCP on tcp_host:tcp_port, only with mutual TLS
	 * (Docker's --tlsverify: the server's certificate and key, and the CA
	 * whose signature every client certificate must carry) */
	const char *tcp_host, *tcp_port;
	const char *tls_ca, *tls_cert, *tls_key; /* PEM files */
};

/* Serve until SIGINT/SIGTERM or the idle timeout; the socket is removed on the way out. */
int bx_api_serve(const struct bx_api_service *o, struct bx_err *err);

#endif
