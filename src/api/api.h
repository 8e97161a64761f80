/* The Engine API service's insides, shared by its files: one request, the
 * replies, and the handlers (system.c, containers.c, logs.c). */
#ifndef BOXVM_API_API_H
#define BOXVM_API_API_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../common/paths.h"

/* a request body larger than this is refused (413): a create's JSON is a few KiB */
#define API_BODY_MAX (1 << 20)

/* what the service's connections share: the open attaches (attach.c), each
 * waiting for its box's start (wake_w: the start's word) or relaying (resize_w:
 * the terminal's new sizes, for the attach socket it holds) */
#define API_PENDING_MAX 64
struct api_svc {
	bool tls; /* a TCP listener: every request needs a client certificate the CA signed */
	pthread_mutex_t lock;
	struct {
		bool used, woken;
		char id[65];
		int wake_w, resize_w;
	} pending[API_PENDING_MAX];
	struct api_execs *execs; /* the exec instances (exec.c), made on first use */
};

struct api_req {
	struct api_svc *svc;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;  /* without the /vX.Y prefix */
	char *body;
	size_t body_len;
	bool body_too_big;
	struct bx_paths p;
	/* a body streamed to a temp file instead (upload.c): images/load, archive PUT */
	bool streamed;
	bool denied;       /* TLS without a verified client certificate: a 403, its body dropped */
	int up_fd, up_op; /* the file; the store operation that keeps the sweep off it */
	char up_path[PATH_MAX];
	long long up_len;
	bool up_too_big, up_failed;
};

/* ?KEY= of the request (NULL: absent) and Docker's booleans ("1", "true", "True"). */
const char *api_arg(const struct api_req *r, const char *key);
bool api_arg_bool(const struct api_req *r, const char *key);
/* The client's socket, to notice a hang-up while a stream waits (-1: unknown). */
int api_client_fd(const struct api_req *r);

/* Replies; each queues the response and returns what MHD wants back. */
enum MHD_Result api_reply(struct api_req *r, unsigned status, struct MHD_Response *resp);
enum MHD_Result api_json(struct api_req *r, unsigned status, json_t *body); /* takes body */
enum MHD_Result api_empty(struct api_req *r, unsigned status);
/* Docker's error body {"message": "..."} */
enum MHD_Result api_error(struct api_req *r, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* err's message with the status its errnum says: ENOENT 404, EEXIST 409,
 * EINVAL 400, anything else 500 (a fault of boxvm's or of the host) */
enum MHD_Result api_fail(struct api_req *r, const struct bx_err *err);

/* Bodies that may be large (a docker save tar, a docker cp tar): streamed
 * to a temp file in the data dir, bounded by API_UPLOAD_MAX (upload.c). */
#define API_UPLOAD_MAX (8LL << 30)
bool api_upload_wanted(struct MHD_Connection *conn, const char *method, const char *url);
void api_upload_chunk(struct api_req *r, const char *data, size_t len);
/* Before a handler reads the file: a reply when it failed or was too big. */
bool api_upload_check(struct api_req *r, enum MHD_Result *ret);
void api_upload_end(struct api_req *r);

enum MHD_Result api_ping(struct api_req *r);
enum MHD_Result api_version(struct api_req *r);
enum MHD_Result api_info(struct api_req *r);
/* /containers/...: id is NULL for the collection (create, json) */
enum MHD_Result api_containers(struct api_req *r, const char *id, const char *action);
enum MHD_Result api_logs(struct api_req *r, const char *id);
enum MHD_Result api_wait(struct api_req *r, const char *id);
enum MHD_Result api_attach(struct api_req *r, const char *id);
/* The start of box id (full ID) happened (started) or failed: an attach
 * waiting for it attaches to the box's shim now, or ends. */
void api_attach_take(struct api_svc *svc, const char *id, bool started);
bool api_attach_pending(struct api_svc *svc, const char *id);
/* POST /containers/ID/resize: the terminal of an attach with stdin */
enum MHD_Result api_resize(struct api_req *r, const char *id);
/* ?h=&w= of a resize as RESIZE's payload (u16 rows, u16 cols); false: a bad one */
bool api_size_args(const struct api_req *r, uint8_t b[4]);
/* All of buf to a client's (hijacked) socket, waiting while it is full; -1: it is gone. */
int api_send_all(int fd, const void *buf, size_t len);
/* /containers/ID/ACTION of control.c (restart, pause, unpause, rename, top) */
bool api_control_action(const char *method, const char *action);
/* ?t= of stop and restart: seconds (-1 or absent: the box's own); false: a bad one */
bool api_timeout_arg(const struct api_req *r, long *timeout);
enum MHD_Result api_control(struct api_req *r, const char *ref, const char *action);
/* GET /containers/ID/stats (stats.c) */
enum MHD_Result api_stats(struct api_req *r, const char *ref);
/* POST /containers/prune (prune.c) */
enum MHD_Result api_containers_prune(struct api_req *r);
enum MHD_Result api_build_prune(struct api_req *r);
/* POST /containers/ID/exec, and /exec/ID/ACTION (start, resize, json): exec.c */
enum MHD_Result api_exec_create(struct api_req *r, const char *ref);
enum MHD_Result api_exec(struct api_req *r, const char *id, const char *action);
enum MHD_Result api_images(struct api_req *r, const char *name, const char *action);
/* /volumes[/NAME], /networks[/ID[/ACTION]] (NULL: the collection), /events */
enum MHD_Result api_volumes(struct api_req *r, const char *name);
enum MHD_Result api_networks(struct api_req *r, const char *id, const char *action);
enum MHD_Result api_events(struct api_req *r);
/* GET, HEAD and PUT /containers/ID/archive: docker cp (archive.c) */
enum MHD_Result api_archive(struct api_req *r, const char *id);
/* POST /commit, GET /containers/ID/changes and /containers/ID/export (commit.c) */
enum MHD_Result api_commit(struct api_req *r);
enum MHD_Result api_changes(struct api_req *r, const char *id);
enum MHD_Result api_export(struct api_req *r, const char *id);
/* POST /images/create?fromSrc=-: docker import of the spooled body (commit.c) */
enum MHD_Result api_images_import(struct api_req *r);
/* POST /images/create: a pull with Docker's JSON progress stream (images_pull.c) */
enum MHD_Result api_images_pull(struct api_req *r);
/* POST /images/NAME/push: a push with Docker's JSON progress stream (images_push.c) */
enum MHD_Result api_images_push(struct api_req *r, const char *name);
/* POST /auth: docker login's check of credentials against a registry (images_pull.c) */
enum MHD_Result api_auth(struct api_req *r);
/* /images/... beyond list and inspect: create (pull), tag, remove, prune,
 * history (images_edit.c), get and load (images_tar.c); and /auth. true when path is
 * one of them, its reply in *ret. */
bool api_images_more(struct api_req *r, const char *path, enum MHD_Result *ret);
/* build.c: POST /build (docker build's classic path) */
enum MHD_Result api_build(struct api_req *r);

#endif
