/* POST /images/create?fromImage=&tag=: a pull (image/registry/pull.h) with
 * Docker's JSON progress stream, which the docker CLI renders as it renders
 * dockerd's ("Pulling fs layer", "Downloading" with progressDetail,
 * "Download complete", "Pull complete", "Digest: ...", "Status: ...").
 *
 * The pull runs in a thread of its own that writes the stream's lines into a
 * pipe; the connection's thread waits for the first line before it answers,
 * so a pull that fails before anything happened (an unknown image, refused
 * credentials) is an error reply with its status, as Docker's is, and one
 * that fails later ends the stream with Docker's {"errorDetail":..,"error":..}
 * line. A client that hangs up cancels the pull (its staged blobs are kept
 * for the next one) and the thread is joined before the connection's memory
 * goes. Credentials come from X-Registry-Auth (base64url JSON), held only
 * for this pull and never logged. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "base64.h"
#include "route.h"
#include "../common/clock.h"
#include "../image/registry/pull.h"
#include "../store/events.h"

/* X-Registry-Auth: a JSON object of a few fields; longer is not a credential */
#define AUTH_HEADER_MAX 16384

struct pull {
	struct bx_paths p;
	char ref[1024];
	struct bx_ref parsed;
	struct bx_pull_opts o;
	struct bx_credentials creds;
	int rfd, wfd, client_fd;
	atomic_bool cancel;
	bool wrote;           /* a line went out: a failure now is an error line, not a reply */
	long long last_ms;
	pthread_t thread;
	bool joined;
	int rc;
	struct bx_err err;
	struct bx_pull_result res;
	char first[4096];     /* what the connection's thread read while waiting for the start */
	size_t first_len, first_off;
};

static bool cancelled(void *ctx)
{
	struct pull *pl = ctx;
	return atomic_load(&pl->cancel);
}

/* one line of the stream; a reader gone (EPIPE) cancels the pull */
static void put(struct pull *pl, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return;
	size_t len = strlen(text);
	text[len++] = '\n';
	const char *p = text;
	while (len) {
		ssize_t n = write(pl->wfd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			atomic_store(&pl->cancel, true);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	free(text);
	pl->wrote = true;
}

static void layer_status(struct pull *pl, const char *digest, const char *status)
{
	char id[16];
	snprintf(id, sizeof(id), "%.12s", digest + 7);
	put(pl, json_pack("{s:s,s:{},s:s}", "status", status, "progressDetail", "id", id));
}

static void on_event(void *ctx, const struct bx_pull_event *ev)
{
	struct pull *pl = ctx;
	if (ev->kind == BX_PULL_RESOLVED) {
		/* Docker's first line: the repository's path and the tag (or digest) */
		put(pl, json_pack("{s:s+,s:s}", "status", "Pulling from ", pl->parsed.path, "id",
				  pl->parsed.tag[0] ? pl->parsed.tag : pl->parsed.digest));
		return;
	}
	if (ev->kind == BX_PULL_LAYER_EXISTS) {
		layer_status(pl, ev->digest, "Already exists");
		return;
	}
	if (ev->kind == BX_PULL_LAYER_QUEUED) {
		layer_status(pl, ev->digest, "Pulling fs layer");
		return;
	}
	char id[16];
	snprintf(id, sizeof(id), "%.12s", ev->digest + 7);
	switch (ev->kind) {
	case BX_PULL_LAYER_WAITING:
		layer_status(pl, ev->digest, "Waiting");
		break;
	case BX_PULL_LAYER_PROGRESS:
		/* a few a second, and the last one */
		if (ev->done != ev->total && bx_mono_ms() - pl->last_ms < 100)
			break;
		pl->last_ms = bx_mono_ms();
		put(pl, json_pack("{s:s,s:{s:I,s:I},s:s}", "status", "Downloading", "progressDetail", "current",
				  (json_int_t)ev->done, "total", (json_int_t)ev->total, "id", id));
		break;
	case BX_PULL_LAYER_DONE:
		/* verified as it streamed in (registry_stage.c); unpacked when a box is made from it */
		layer_status(pl, ev->digest, "Verifying Checksum");
		layer_status(pl, ev->digest, "Download complete");
		layer_status(pl, ev->digest, "Pull complete");
		break;
	default:
		break;
	}
}

static void *run_pull(void *arg)
{
	struct pull *pl = arg;
	pl->rc = bx_image_pull(&pl->p, pl->ref, &pl->o, &pl->res, &pl->err);
	explicit_bzero(&pl->creds, sizeof(pl->creds));
	if (pl->rc == 0) {
		bx_event_emit(pl->p.data, "image", "pull", pl->res.name, (const char *const[]){"name", pl->res.name, NULL},
			      NULL);
		put(pl, json_pack("{s:s+}", "status", "Digest: ", pl->res.repo_digest));
		put(pl, json_pack("{s:s+++}", "status", "Status: ",
				  pl->res.updated ? "Downloaded newer image" : "Image is up to date", " for ", pl->res.name));
	} else if (pl->wrote) {
		put(pl, json_pack("{s:{s:s},s:s}", "errorDetail", "message", pl->err.msg, "error", pl->err.msg));
	}
	close(pl->wfd);
	pl->wfd = -1;
	return NULL;
}

static void pull_free(void *cls)
{
	struct pull *pl = cls;
	atomic_store(&pl->cancel, true);
	if (pl->rfd >= 0)
		close(pl->rfd); /* a writer blocked on a full pipe gets EPIPE */
	if (!pl->joined)
		pthread_join(pl->thread, NULL);
	explicit_bzero(&pl->creds, sizeof(pl->creds));
	free(pl);
}

/* waits for the pipe or the client's hang-up; 1 readable, 0 hung up */
static int wait_readable(struct pull *pl)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = pl->rfd, .events = POLLIN}, {.fd = pl->client_fd, .events = 0}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return 0;
		}
		if (pfd[0].revents)
			return 1;
		if (pfd[1].revents)
			return 0;
	}
}

static ssize_t pull_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pull *pl = cls;
	if (pl->first_off < pl->first_len) {
		size_t n = pl->first_len - pl->first_off;
		if (n > max)
			n = max;
		memcpy(buf, pl->first + pl->first_off, n);
		pl->first_off += n;
		return (ssize_t)n;
	}
	if (!wait_readable(pl))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	ssize_t n;
	while ((n = read(pl->rfd, buf, max)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

/* X-Registry-Auth: {"username","password","serveraddress"} base64url; an
 * empty object (what the CLI sends when not logged in) is no credentials */
static int parse_auth(struct api_req *r, struct pull *pl, struct bx_err *err)
{
	const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Registry-Auth");
	if (!h || !*h)
		return 0;
	size_t hl = strlen(h);
	if (hl > AUTH_HEADER_MAX)
		return api_bad(err, "X-Registry-Auth is longer than %d bytes", AUTH_HEADER_MAX);
	char *dec = malloc(hl + 1);
	if (!dec)
		return bx_fail(err, ENOMEM, "out of memory");
	long n = api_base64_decode(h, hl, dec, hl + 1);
	json_t *o = n >= 0 ? json_loadb(dec, (size_t)n, 0, NULL) : NULL;
	explicit_bzero(dec, hl + 1);
	free(dec);
	if (!json_is_object(o)) {
		json_decref(o);
		/* Docker's words; the header's content is not repeated */
		return api_bad(err, "Bad parameters and missing X-Registry-Auth: invalid X-Registry-Auth header");
	}
	const char *user = json_string_value(json_object_get(o, "username"));
	const char *pass = json_string_value(json_object_get(o, "password"));
	int rc = 0;
	if (user && *user) {
		if (strlen(user) >= sizeof(pl->creds.user) || (pass && strlen(pass) >= sizeof(pl->creds.secret)))
			rc = api_bad(err, "X-Registry-Auth: the username or password is too long");
		else {
			snprintf(pl->creds.user, sizeof(pl->creds.user), "%s", user);
			snprintf(pl->creds.secret, sizeof(pl->creds.secret), "%s", pass ? pass : "");
			pl->o.creds = &pl->creds;
		}
	}
	/* the password's copy in the JSON object is wiped before it is freed */
	json_t *pv = json_object_get(o, "password");
	if (json_is_string(pv) && json_string_length(pv))
		explicit_bzero((char *)json_string_value(pv), json_string_length(pv));
	json_decref(o);
	return rc;
}

/* fromImage (+ tag: a tag, or a digest) -> the reference pulled */
static int build_ref(struct api_req *r, struct pull *pl, struct bx_err *err)
{
	const char *from = api_arg(r, "fromImage"), *tag = api_arg(r, "tag");
	if (api_arg(r, "fromSrc"))
		return api_bad(err, "importing an image (fromSrc) is not served by boxvm's API");
	if (!from || !*from)
		return api_bad(err, "fromImage is required: the image to pull");
	int n;
	if (tag && *tag)
		n = snprintf(pl->ref, sizeof(pl->ref), "%s%s%s", from, strchr(tag, ':') ? "@" : ":", tag);
	else
		n = snprintf(pl->ref, sizeof(pl->ref), "%s", from); /* Docker pulls every tag; boxvm the default one */
	if (n < 0 || (size_t)n >= sizeof(pl->ref))
		return api_bad(err, "invalid reference format: the image reference is too long");
	struct bx_err e = {0};
	if (bx_ref_parse(pl->ref, &pl->parsed, &e) < 0)
		return api_bad(err, "%s", e.msg);
	const char *plat = api_arg(r, "platform");
	if (plat && *plat) {
		if (bx_platform_parse(plat, &pl->o.platform, &e) < 0)
			return api_bad(err, "%s", e.msg);
	} else {
		bx_platform_default(&pl->o.platform);
	}
	return 0;
}

enum MHD_Result api_images_pull(struct api_req *r)
{
	struct bx_err err = {0};
	struct pull *pl = calloc(1, sizeof(*pl));
	if (!pl)
		return api_error(r, 500, "out of memory");
	pl->rfd = pl->wfd = -1;
	pl->joined = true;
	pl->p = r->p;
	pl->client_fd = api_client_fd(r);
	pl->o.progress = on_event;
	pl->o.progress_ctx = pl;
	pl->o.cancelled = cancelled;
	if (build_ref(r, pl, &err) < 0 || parse_auth(r, pl, &err) < 0) {
		pull_free(pl);
		return api_fail(r, &err);
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		pull_free(pl);
		return api_error(r, 500, "cannot make a pipe");
	}
	pl->rfd = fds[0];
	pl->wfd = fds[1];
	if (pthread_create(&pl->thread, NULL, run_pull, pl) != 0) {
		close(pl->wfd);
		pull_free(pl);
		return api_error(r, 500, "cannot start the pull");
	}
	pl->joined = false;
	/* the first line, or the end of a pull that failed before any */
	if (!wait_readable(pl)) {
		pull_free(pl); /* the client is gone: the pull is cancelled */
		return MHD_NO;
	}
	ssize_t n;
	while ((n = read(pl->rfd, pl->first, sizeof(pl->first))) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		pthread_join(pl->thread, NULL);
		pl->joined = true;
		struct bx_err e = pl->err;
		if (pl->rc == 0)
			bx_fail(&e, 0, "the pull of %s ended without a word", pl->ref);
		pull_free(pl);
		/* Docker: an unknown image or repository, or one refused to us, is a 404 */
		bool missing = strstr(e.msg, " not found") || !strncmp(e.msg, "unauthorized", 12);
		return missing ? api_error(r, 404, "%s", e.msg) : api_fail(r, &e);
	}
	pl->first_len = (size_t)n;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, pull_read, pl, pull_free);
	if (!resp) {
		pull_free(pl);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, 200, resp);
}

/* POST /auth (docker login): the credentials checked against the registry,
 * nothing stored (the docker CLI keeps them, and sends them with each pull
 * in X-Registry-Auth). */
enum MHD_Result api_auth(struct api_req *r)
{
	struct bx_err err = {0};
	json_t *o = json_loadb(r->body ? r->body : "", r->body_len, 0, NULL);
	const char *user = json_string_value(json_object_get(o, "username"));
	const char *pass = json_string_value(json_object_get(o, "password"));
	const char *server = json_string_value(json_object_get(o, "serveraddress"));
	struct bx_credentials c = {0};
	char host[256];
	enum MHD_Result ret;
	if (!json_is_object(o))
		ret = api_error(r, 400, "invalid JSON in the request body: {username, password, serveraddress}");
	else if (!user || !*user || !pass || !*pass)
		ret = api_error(r, 400, "username and password must not be empty (identity tokens are not supported)");
	else if (strlen(user) >= sizeof(c.user) || strlen(pass) >= sizeof(c.secret))
		ret = api_error(r, 400, "the username or password is too long");
	else if (bx_registry_server_name(server, host, sizeof(host), &err) < 0)
		ret = api_error(r, 400, "%s", err.msg);
	else {
		snprintf(c.user, sizeof(c.user), "%s", user);
		snprintf(c.secret, sizeof(c.secret), "%s", pass);
		if (bx_registry_login_check(&r->p, host, &c, &err) < 0)
			ret = api_error(r, strstr(err.msg, "unauthorized") ? 401 : 500, "%s", err.msg);
		else
			ret = api_json(r, 200, json_pack("{s:s,s:s}", "Status", "Login Succeeded", "IdentityToken", ""));
	}
	explicit_bzero(&c, sizeof(c));
	json_t *pv = json_object_get(o, "password");
	if (json_is_string(pv) && json_string_length(pv))
		explicit_bzero((char *)json_string_value(pv), json_string_length(pv));
	json_decref(o);
	/* the request body held the password too */
	if (r->body)
		explicit_bzero(r->body, r->body_len);
	return ret;
}
