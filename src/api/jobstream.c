/* The streamed registry job of the Engine API (jobstream.h): a thread, a
 * pipe of JSON lines, and the first line awaited before the reply. */
#include "jobstream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base64.h"
#include "route.h"

/* X-Registry-Auth: a JSON object of a few fields; longer is not a credential */
#define AUTH_HEADER_MAX 16384

bool api_job_cancelled(void *ctx)
{
	struct api_job *j = ctx;
	return atomic_load(&j->cancel);
}

void api_job_put(struct api_job *j, json_t *o)
{
	char *text = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	if (!text)
		return;
	size_t len = strlen(text);
	text[len++] = '\n';
	const char *p = text;
	while (len) {
		ssize_t n = write(j->wfd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			atomic_store(&j->cancel, true);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	free(text);
	j->wrote = true;
}

void api_job_layer_status(struct api_job *j, const char *digest, const char *status)
{
	char id[16];
	const char *hex = strchr(digest, ':') ? strchr(digest, ':') + 1 : digest;
	snprintf(id, sizeof(id), "%.12s", hex);
	api_job_put(j, json_pack("{s:s,s:{},s:s}", "status", status, "progressDetail", "id", id));
}

static void *job_thread(void *arg)
{
	struct api_job *j = arg;
	j->run(j);
	if (j->rc < 0 && j->wrote && j->error_code > 0)
		api_job_put(j, json_pack("{s:{s:i,s:s},s:s}", "errorDetail", "code", j->error_code, "message", j->err.msg,
					 "error", j->err.msg));
	else if (j->rc < 0 && j->wrote)
		api_job_put(j, json_pack("{s:{s:s},s:s}", "errorDetail", "message", j->err.msg, "error", j->err.msg));
	close(j->wfd);
	j->wfd = -1;
	return NULL;
}

static void job_free(void *cls)
{
	struct api_job *j = cls;
	atomic_store(&j->cancel, true);
	if (j->rfd >= 0)
		close(j->rfd); /* a writer blocked on a full pipe gets EPIPE */
	if (!j->joined)
		pthread_join(j->thread, NULL);
	j->destroy(j);
}

/* waits for the pipe or the client's hang-up; 1 readable, 0 hung up */
static int wait_readable(struct api_job *j)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = j->rfd, .events = POLLIN}, {.fd = j->client_fd, .events = 0}};
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

static ssize_t job_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct api_job *j = cls;
	if (j->first_off < j->first_len) {
		size_t n = j->first_len - j->first_off;
		if (n > max)
			n = max;
		memcpy(buf, j->first + j->first_off, n);
		j->first_off += n;
		return (ssize_t)n;
	}
	if (!wait_readable(j))
		return MHD_CONTENT_READER_END_WITH_ERROR;
	ssize_t n;
	while ((n = read(j->rfd, buf, max)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n ? n : MHD_CONTENT_READER_END_OF_STREAM;
}

enum MHD_Result api_job_stream(struct api_req *r, struct api_job *j,
			       enum MHD_Result (*early)(struct api_req *r, const struct bx_err *err))
{
	j->rfd = j->wfd = -1;
	j->joined = true;
	j->client_fd = api_client_fd(r);
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		job_free(j);
		return api_error(r, 500, "cannot make a pipe");
	}
	j->rfd = fds[0];
	j->wfd = fds[1];
	if (pthread_create(&j->thread, NULL, job_thread, j) != 0) {
		close(j->wfd);
		job_free(j);
		return api_error(r, 500, "cannot start the job");
	}
	j->joined = false;
	/* the first line, or the end of a job that failed before any */
	if (!wait_readable(j)) {
		job_free(j); /* the client is gone: the job is cancelled */
		return MHD_NO;
	}
	ssize_t n;
	while ((n = read(j->rfd, j->first, sizeof(j->first))) < 0 && errno == EINTR)
		;
	if (n <= 0) {
		pthread_join(j->thread, NULL);
		j->joined = true;
		struct bx_err e = j->err;
		if (j->rc == 0)
			bx_fail(&e, 0, "the job ended without a word");
		job_free(j);
		return early(r, &e);
	}
	j->first_len = (size_t)n;
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, job_read, j, job_free);
	if (!resp) {
		job_free(j);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, 200, resp);
}

int api_registry_auth(struct api_req *r, struct bx_credentials *c, bool *have, struct bx_err *err)
{
	*have = false;
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
		if (strlen(user) >= sizeof(c->user) || (pass && strlen(pass) >= sizeof(c->secret))) {
			rc = api_bad(err, "X-Registry-Auth: the username or password is too long");
		} else {
			snprintf(c->user, sizeof(c->user), "%s", user);
			snprintf(c->secret, sizeof(c->secret), "%s", pass ? pass : "");
			*have = true;
		}
	}
	/* the password's copy in the JSON object is wiped before it is freed */
	json_t *pv = json_object_get(o, "password");
	if (json_is_string(pv) && json_string_length(pv))
		explicit_bzero((char *)json_string_value(pv), json_string_length(pv));
	json_decref(o);
	return rc;
}
