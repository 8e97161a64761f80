/* The Engine API's TCP listener and its client certificates (tls.h). */
#include "tls.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/paths.h"

#define PEM_MAX (1 << 20)

static int read_pem(const char *path, const char *what, char **out, struct bx_err *err)
{
	if (!path || !*path)
		return bx_fail(err, 0, "a TCP listener needs --tlsverify with --tlscacert, --tlscert and --tlskey (%s "
				       "missing): the socket is the API's trust boundary", what);
	size_t len;
	if (bx_read_file(path, out, &len, err) < 0)
		return bx_wrap(err, "%s", what);
	if (len > PEM_MAX || !strstr(*out, "-----BEGIN ")) {
		free(*out);
		*out = NULL;
		return bx_fail(err, 0, "%s %s: not a PEM file", what, path);
	}
	return 0;
}

int api_tls_load(const struct bx_api_service *o, struct api_tls_pem *pem, struct bx_err *err)
{
	*pem = (struct api_tls_pem){0};
	if (read_pem(o->tls_ca, "--tlscacert", &pem->ca, err) < 0 ||
	    read_pem(o->tls_cert, "--tlscert", &pem->cert, err) < 0 ||
	    read_pem(o->tls_key, "--tlskey", &pem->key, err) < 0) {
		api_tls_free(pem);
		return -1;
	}
	return 0;
}

void api_tls_free(struct api_tls_pem *pem)
{
	free(pem->ca);
	free(pem->cert);
	if (pem->key)
		memset(pem->key, 0, strlen(pem->key)); /* the private key lingers nowhere */
	free(pem->key);
	*pem = (struct api_tls_pem){0};
}

int api_tls_listen(const char *host, const char *port, struct bx_err *err)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(host && *host ? host : NULL, port, &hints, &res);
	if (rc != 0)
		return bx_fail(err, 0, "cannot resolve tcp://%s:%s: %s", host ? host : "", port, gai_strerror(rc));
	int fd = -1, saved = 0;
	for (struct addrinfo *a = res; a && fd < 0; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0)
			continue;
		int one = 1;
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, a->ai_addr, a->ai_addrlen) < 0 || listen(fd, 64) < 0) {
			saved = errno;
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	if (fd < 0)
		return bx_fail(err, saved, "cannot listen on tcp://%s:%s", host ? host : "", port);
	return fd;
}

bool api_tls_client_verified(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session = ci ? (gnutls_session_t)ci->tls_session : NULL;
	unsigned status = 0;
	unsigned n = 0;
	/* no certificate at all is GNUTLS_E_NO_CERTIFICATE_FOUND; one the CA did
	 * not sign, expired or not yet valid leaves bits in status */
	return session && gnutls_certificate_get_peers(session, &n) && n > 0 &&
	       gnutls_certificate_verify_peers2(session, &status) == GNUTLS_E_SUCCESS && status == 0;
}
