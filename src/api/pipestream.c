/* Reply bodies from a producer thread through a pipe (pipestream.h). */
#include "pipestream.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct pipestream {
	int (*fn)(void *ctx, int fd);
	void (*done)(void *ctx, int rc);
	void *ctx;
	int rfd, wfd, client_fd, rc;
	pthread_t thread;
	bool joined;
};

static void *produce(void *arg)
{
	struct pipestream *ps = arg;
	ps->rc = ps->fn(ps->ctx, ps->wfd);
	close(ps->wfd);
	return NULL;
}

static ssize_t ps_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct pipestream *ps = cls;
	for (;;) {
		struct pollfd pfd[2] = {{.fd = ps->rfd, .events = POLLIN}, {.fd = ps->client_fd, .events = 0}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		if (pfd[0].revents)
			break;
		if (pfd[1].revents)
			return MHD_CONTENT_READER_END_WITH_ERROR; /* the client hung up */
	}
	ssize_t n;
	while ((n = read(ps->rfd, buf, max)) < 0 && errno == EINTR)
		;
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (n)
		return n;
	/* the end: a producer that failed cuts the stream short, as Docker's does */
	pthread_join(ps->thread, NULL);
	ps->joined = true;
	return ps->rc == 0 ? MHD_CONTENT_READER_END_OF_STREAM : MHD_CONTENT_READER_END_WITH_ERROR;
}

static void ps_free(void *cls)
{
	struct pipestream *ps = cls;
	close(ps->rfd); /* a producer still writing gets EPIPE */
	if (!ps->joined)
		pthread_join(ps->thread, NULL);
	ps->done(ps->ctx, ps->rc);
	free(ps);
}

struct MHD_Response *api_pipe_response(struct api_req *r, int (*fn)(void *ctx, int fd), void (*done)(void *ctx, int rc),
				       void *ctx)
{
	struct pipestream *ps = calloc(1, sizeof(*ps));
	int fds[2];
	if (!ps || pipe2(fds, O_CLOEXEC) < 0) {
		free(ps);
		done(ctx, -1);
		return NULL;
	}
	*ps = (struct pipestream){.fn = fn, .done = done, .ctx = ctx, .rfd = fds[0], .wfd = fds[1],
				  .client_fd = api_client_fd(r), .rc = -1};
	if (pthread_create(&ps->thread, NULL, produce, ps) != 0) {
		close(fds[0]);
		close(fds[1]);
		free(ps);
		done(ctx, -1);
		return NULL;
	}
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, ps_read, ps, ps_free);
	if (!resp)
		ps_free(ps);
	return resp;
}
