/* A reply body made by a blocking producer (an image save, a box's tar):
 * fn runs in a thread of its own writing into a pipe, and the reply streams
 * what it writes. A client that hangs up closes the pipe (fn's writes fail
 * with EPIPE, SIGPIPE being ignored by the service) and the thread is
 * joined before the reply's memory goes. */
#ifndef BOXVM_API_PIPESTREAM_H
#define BOXVM_API_PIPESTREAM_H

#include <microhttpd.h>

#include "api.h"

/* fn(ctx, fd) writes the body to fd (fd is closed after it returns);
 * done(ctx, rc) after the join, where ctx is freed. NULL when the pipe or
 * thread could not be made (done called). The caller adds headers and
 * queues it (api_reply). */
struct MHD_Response *api_pipe_response(struct api_req *r, int (*fn)(void *ctx, int fd), void (*done)(void *ctx, int rc),
				       void *ctx);

#endif
