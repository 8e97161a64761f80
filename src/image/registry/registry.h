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
	bool push;              /* tokens are asked for pull,push; a refusal is worded for a push */
	char mount_from[256];   /* a repository on the same registry a blob is being mounted from: its
				 * pull scope joins the token's ("" none) */
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

/* ---- pushing (registry_push*.c) ---- */

/* The body of a PUT: a buffer, or fd >= 0 with size bytes (read with pread
 * from 0 on every attempt). progress: bytes sent so far; cancelled: polled
 * as the body is read, true aborts (ECANCELED). */
struct bx_registry_body {
	const char *content_type; /* NULL: application/octet-stream */
	const void *buf;
	size_t len;
	int fd;
	long long size;
	void (*progress)(void *ctx, long long sent, long long total);
	bool (*cancelled)(void *ctx);
	void *ctx;
};
/* What a push request got back; every field bounded (a registry is hostile). */
struct bx_registry_reply {
	long code;
	char location[2048];    /* Location, "" if none or too long */
	bool location_too_long;
	char digest[128];       /* Docker-Content-Digest, "" if none */
	char error[300];        /* "CODE: message" of an error body, "" if none */
};
/* method "HEAD" (redirects followed, as for GET), "POST" (empty body) or
 * "PUT" (body, may be NULL for none): no redirect followed. A 401 is answered
 * as for any request. Bodies over 4 KiB and headers over 64 KiB are refused. */
int bx_registry_send(struct bx_registry *r, const char *method, const char *url, const struct bx_registry_body *body,
		     struct bx_registry_reply *out, struct bx_err *err);

/* Pure (registry_location.c). The token scope for a repository:
 * "repository:PATH:pull" or, with push, "repository:PATH:pull,push". */
int bx_registry_scope(const char *path, bool push, char *out, size_t size, struct bx_err *err);
/* Resolve an upload's Location against the URL of the request that got it:
 * an absolute URL must name the same scheme and host[:port] (credentials
 * follow the upload, so it may not lead elsewhere), a path starting with "/"
 * is taken on that host; anything else (another host, a relative path,
 * userinfo, spaces or control characters, too long) is refused. */
int bx_registry_location(const char *request_url, const char *location, char *out, size_t size, struct bx_err *err);

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
