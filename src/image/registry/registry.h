/* Client side of the OCI distribution protocol (registry HTTP API v2), over
 * libcurl: manifests (OCI and Docker v2s2, images and indexes), blobs
 * (streamed, redirects followed), and the auth challenge (anonymous or Basic
 * credentials exchanged for a Bearer token, or plain Basic).
 *
 * HTTPS with the system CAs by default; plain HTTP only for loopback hosts or
 * hosts listed in BOXVM_INSECURE_REGISTRIES (comma-separated "host[:port]"). */
#ifndef BOXVM_REGISTRY_H
#define BOXVM_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include "../../common/err.h"
#include "../../common/paths.h"
#include "../ref.h"

#define BX_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define BX_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define BX_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define BX_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"

/* ---- pure parts (unit-tested) ---- */

/* One WWW-Authenticate challenge: scheme plus the params a client uses. */
struct bx_auth_challenge {
	char scheme[16];   /* "Bearer" or "Basic" (as sent) */
	char realm[1024];
	char service[256];
	char scope[512];
	char error[64];    /* e.g. "insufficient_scope" */
};
int bx_auth_challenge_parse(const char *header, struct bx_auth_challenge *out, struct bx_err *err);
/* "host[:port]" is in list (BOXVM_INSECURE_REGISTRIES: comma/space separated). */
bool bx_registry_insecure_listed(const char *hostport, const char *list);
/* Whether stored credentials may be sent to a token realm: only over HTTPS,
 * unless the realm's host is loopback or in the insecure list (a registry can
 * name any realm, and plain HTTP would hand the secret to the network). */
bool bx_realm_may_get_credentials(const char *realm, const char *insecure_list);

struct bx_platform {
	char os[32];
	char arch[32];
	char variant[16]; /* "" = any */
};
/* "linux/amd64", "linux/arm64/v8", "amd64" (os defaults to linux). */
int bx_platform_parse(const char *s, struct bx_platform *out, struct bx_err *err);
/* The host's platform as Docker names it (linux/amd64 on x86-64). */
void bx_platform_default(struct bx_platform *out);
/* true if the JSON is an image index / manifest list (by mediaType, or by a
 * "manifests" array when mediaType is absent, as OCI allows). */
bool bx_manifest_is_index(const char *json, size_t len);
/* Pick the manifest for platform p from an index; digest (and size) out.
 * Missing: one-line error listing the platforms the index has. */
int bx_index_select(const char *json, size_t len, const struct bx_platform *p, char digest[72], long long *size,
		    struct bx_err *err);

/* ---- network ---- */

struct bx_credentials {
	char user[256];
	char secret[1024];
};

struct bx_registry {
	void *curl;             /* CURL * */
	struct bx_ref ref;
	char base[512];         /* "https://host/v2/PATH" */
	char auth_header[4096]; /* "Authorization: ..." once known, else "" */
	bool have_creds;
	struct bx_credentials creds;
	bool basic_only;        /* the registry asked for Basic directly */
};

/* Chooses http/https, loads credentials stored by `login` for the host. */
int bx_registry_open(struct bx_registry *r, const struct bx_paths *p, const struct bx_ref *ref, struct bx_err *err);
void bx_registry_close(struct bx_registry *r);
/* GET /v2/ with credentials (what `login` checks). A ref with an empty path is fine. */
int bx_registry_ping(struct bx_registry *r, struct bx_err *err);
/* GET /manifests/REF (a tag or digest) with every supported media type in Accept.
 * *body malloc'd; media_type from the response (or the body's mediaType). */
int bx_registry_manifest(struct bx_registry *r, const char *tag_or_digest, size_t max, char **body, size_t *len,
			 char media_type[128], struct bx_err *err);

/* Called with each chunk of a blob; return -1 (err filled) to abort. A call
 * with buf NULL (len 0) means the server ignored the range: discard what you
 * have and take the blob from byte 0. */
typedef int (*bx_blob_sink)(void *ctx, const void *buf, size_t len, struct bx_err *err);
/* GET /blobs/DIGEST from byte offset (Range) following redirects. *resumed is
 * set when the server honoured the range (206); a 200 restarts from byte 0. */
int bx_registry_blob(struct bx_registry *r, const char *digest, long long offset, bx_blob_sink sink, void *ctx,
		     bool *resumed, struct bx_err *err);

/* ---- logging in (registry_login.c) ---- */
/* The registry a login names: "docker.io" for none (Docker Hub), else the
 * host[:port] of arg (a URL's host part). */
int bx_registry_server_name(const char *arg, char *out, size_t size, struct bx_err *err);
/* Whether the registry at server accepts c (GET /v2/ with them); nothing is stored. */
int bx_registry_login_check(const struct bx_paths *p, const char *server, const struct bx_credentials *c,
			    struct bx_err *err);

/* ---- credentials (DATA/auth.json, mode 0600) ---- */
/* Found: 1; none stored: 0. */
int bx_creds_get(const struct bx_paths *p, const char *registry, struct bx_credentials *out, struct bx_err *err);
int bx_creds_put(const struct bx_paths *p, const char *registry, const struct bx_credentials *c, struct bx_err *err);
/* Returns 1 if something was removed, 0 if nothing was stored. */
int bx_creds_remove(const struct bx_paths *p, const char *registry, struct bx_err *err);

#endif
