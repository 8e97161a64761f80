/* The Engine API over TCP, only with mutual TLS (Docker's --tlsverify):
 * the listening socket, the PEM files MHD (gnutls) serves with, and the
 * check of each client's certificate against the CA. */
#ifndef BOXVM_API_TLS_H
#define BOXVM_API_TLS_H

#include <microhttpd.h>
#include <stdbool.h>

#include "../common/err.h"
#include "service.h"

struct api_tls_pem {
	char *ca, *cert, *key; /* the files' text (malloc'd) */
};
/* Read the three PEM files (each at most 1 MiB); every one is required. */
int api_tls_load(const struct bx_api_service *o, struct api_tls_pem *pem, struct bx_err *err);
void api_tls_free(struct api_tls_pem *pem);
/* A listening TCP socket on host:port (numeric or a name; IPv4 or IPv6). */
int api_tls_listen(const char *host, const char *port, struct bx_err *err);
/* The connection's client presented a certificate the CA signed (and it
 * is valid now); false without one. */
bool api_tls_client_verified(struct MHD_Connection *conn);

#endif
