/* Docker image references, parsed for the network: which registry host, which
 * repository path on it, which tag or digest. Pure string handling.
 *
 *   busybox                      -> docker.io  library/busybox  :latest
 *   user/app:1.2                 -> docker.io  user/app         :1.2
 *   127.0.0.1:5000/busybox@sha256:... -> 127.0.0.1:5000 busybox @sha256:...
 *   localhost/app                -> localhost  app
 *
 * The local store names images in Docker's "familiar" form (docker.io/library/
 * dropped: "busybox:latest"), which bx_image_ref_normalize() produces. */
#ifndef BOXVM_REF_H
#define BOXVM_REF_H

#include <stdbool.h>

#include "../common/err.h"

struct bx_ref {
	char domain[256];  /* "docker.io", "127.0.0.1:5000" */
	char path[256];    /* repository on that registry: "library/busybox" */
	char tag[129];     /* "" when only a digest was given */
	char digest[72];   /* "" when none */
};

int bx_ref_parse(const char *s, struct bx_ref *out, struct bx_err *err);
/* The host to connect to: docker.io is served by registry-1.docker.io. */
const char *bx_ref_api_host(const struct bx_ref *r);
/* Familiar name for the local store: "busybox:latest", "127.0.0.1:5000/app:1"
 * (with the digest form "NAME@sha256:..." when no tag was given). */
int bx_ref_familiar(const struct bx_ref *r, bool with_tag, char *out, size_t size, struct bx_err *err);
/* true for a registry the client may reach over plain HTTP without being told:
 * loopback names and addresses ("localhost", 127.0.0.0/8, "::1"), any port. */
bool bx_ref_host_is_loopback(const char *domain);

#endif
