/* A long registry job (a pull, a push) streamed to the client as Docker's
 * JSON progress lines: the job runs in a thread of its own that writes the
 * lines into a pipe; the connection's thread waits for the first line before
 * it answers, so a job that fails before any line is an error reply with its
 * status (as Docker's is), and one that fails later ends the stream with
 * Docker's {"errorDetail":..,"error":..} line. A client that hangs up cancels
 * the job, and the thread is joined before the job's memory goes. */
#ifndef BOXVM_API_JOBSTREAM_H
#define BOXVM_API_JOBSTREAM_H

#include <stdatomic.h>

#include "api.h"
#include "../image/registry/registry.h"

struct api_job {
	/* set by the job's maker */
	void (*run)(struct api_job *j);     /* in the thread: the work; sets rc and err */
	void (*destroy)(struct api_job *j); /* frees what holds j, once the thread is joined */
	int rc;
	struct bx_err err;
	int error_code; /* > 0: the error line's errorDetail code (docker build exits with a RUN's code) */
	/* the machinery's */
	int rfd, wfd, client_fd;
	atomic_bool cancel;
	bool wrote; /* a line went out: a failure now is an error line, not a reply */
	pthread_t thread;
	bool joined;
	char first[4096];
	size_t first_len, first_off;
};

/* One line of the stream (takes o); a reader gone cancels the job. */
void api_job_put(struct api_job *j, json_t *o);
/* {"status":S,"progressDetail":{},"id":ID's first 12 hex digits} */
void api_job_layer_status(struct api_job *j, const char *digest, const char *status);
/* For the job's `cancelled` poll: ctx is the job. */
bool api_job_cancelled(void *ctx);
/* Runs j and answers the request: the stream once the first line is there,
 * else early(r, err) for a job that ended without a line (with rc -1). */
enum MHD_Result api_job_stream(struct api_req *r, struct api_job *j,
			       enum MHD_Result (*early)(struct api_req *r, const struct bx_err *err));

/* X-Registry-Auth: {"username","password",...} base64url; *have false for
 * none (or an empty object: what the CLI sends when not logged in). */
int api_registry_auth(struct api_req *r, struct bx_credentials *c, bool *have, struct bx_err *err);

#endif
