/* POST /containers/ID/attach: the hijacked connection (HTTP 101, then
 * Docker's raw stream) of `docker run` without -d and `docker attach`,
 * output only (stdin is refused for now). The box's shim writes main's
 * stdout and stderr into two pipes handed over its attach.sock (SCM_RIGHTS,
 * BX_ATTACH_KEEP_FDS); a thread of the connection frames them onto the
 * client's socket until both end (main exited) or the client hangs up.
 * docker run attaches before it starts the box: the pipes then wait in the
 * service's table of pending attaches until the start hands them over (the
 * shim holding main's output until then, bx_box_start_held). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "route.h"
#include "../client/shim_client.h"
#include "../common/unixsock.h"
#include "../proto/msg.h"
#include "../store/state.h"

struct attach {
	struct api_svc *svc;
	char id[65];
	int out[2], err[2];          /* pipes: the shim writes [1], we read [0] */
	bool tty;
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* hand the write ends to the box's shim (and drop ours: EOF comes when the shim drops its copies) */
static int hand_over(const char *run_dir, int out_w, int err_w, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/attach.sock", run_dir) < 0)
		return -1;
	int in = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int sock = in >= 0 ? bx_unix_connect(path, err) : -1;
	const int fds[3] = {in, out_w, err_w};
	int rc = sock >= 0 ? bx_shim_send_attach_fds(sock, BX_ATTACH_KEEP_FDS, fds, err) : -1;
	if (in < 0)
		bx_fail(err, errno, "cannot open /dev/null");
	if (in >= 0)
		close(in);
	if (sock >= 0)
		close(sock);
	return rc;
}

void api_attach_take(struct api_svc *svc, const char *id, const char *run_dir, bool started)
{
	int out_w = -1, err_w = -1;
	pthread_mutex_lock(&svc->lock);
	for (int i = 0; i < API_PENDING_MAX; i++)
		if (svc->pending[i].used && !strcmp(svc->pending[i].id, id)) {
			out_w = svc->pending[i].out_w;
			err_w = svc->pending[i].err_w;
			svc->pending[i].used = false;
			break;
		}
	pthread_mutex_unlock(&svc->lock);
	if (out_w < 0)
		return;
	struct bx_err err = {0};
	if (started && hand_over(run_dir, out_w, err_w, &err) < 0)
		fprintf(stderr, "boxvm: attach to box %.12s: %s\n", id, err.msg);
	close(out_w);
	close(err_w);
}

bool api_attach_pending(struct api_svc *svc, const char *id)
{
	bool found = false;
	pthread_mutex_lock(&svc->lock);
	for (int i = 0; i < API_PENDING_MAX && !found; i++)
		found = svc->pending[i].used && !strcmp(svc->pending[i].id, id);
	pthread_mutex_unlock(&svc->lock);
	return found;
}

static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void *relay(void *arg)
{
	struct attach *a = arg;
	char buf[8 + 32768];
	for (;;) {
		struct pollfd pfd[3] = {{.fd = a->out[0], .events = POLLIN},
					{.fd = a->err[0], .events = POLLIN},
					{.fd = a->sock, .events = 0}};
		if (pfd[0].fd < 0 && pfd[1].fd < 0)
			break; /* main's streams ended */
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents)
			break; /* the client hung up */
		bool failed = false;
		for (int s = 0; s < 2 && !failed; s++) {
			if (!pfd[s].revents)
				continue;
			int *fd = s ? &a->err[0] : &a->out[0];
			size_t hdr = a->tty ? 0 : 8;
			ssize_t n = read(*fd, buf + hdr, sizeof(buf) - hdr);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close_fd(fd);
				continue;
			}
			if (hdr)
				api_frame_header((unsigned char *)buf, s + 1, (size_t)n);
			failed = write_all(a->sock, buf, hdr + (size_t)n) < 0;
		}
		if (failed)
			break;
	}
	close_fd(&a->out[0]);
	close_fd(&a->err[0]);
	/* a client gone before the start: its pipes' write ends go too */
	api_attach_take(a->svc, a->id, NULL, false);
	MHD_upgrade_action(a->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(a);
	return NULL;
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct attach *a = cls;
	a->sock = sock;
	a->urh = urh;
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &at, relay, a) != 0) {
		close_fd(&a->out[0]);
		close_fd(&a->err[0]);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		free(a);
	}
	pthread_attr_destroy(&at);
}

enum MHD_Result api_attach(struct api_req *r, const char *ref)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, ref, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
	if (api_arg_bool(r, "stdin"))
		return api_error(r, 400, "attaching stdin is not served yet by boxvm's API: use boxvm run -i / boxvm attach");
	if (api_arg_bool(r, "logs"))
		return api_error(r, 400, "attach with logs=1 is not served yet by boxvm's API: use GET /containers/ID/logs");
	bool want_out = api_arg_bool(r, "stdout"), want_err = api_arg_bool(r, "stderr");
	struct attach *a = calloc(1, sizeof(*a));
	if (!a)
		return api_error(r, 500, "out of memory");
	a->out[0] = a->out[1] = a->err[0] = a->err[1] = -1;
	a->svc = r->svc;
	snprintf(a->id, sizeof(a->id), "%s", rec.id);
	if (pipe2(a->out, O_CLOEXEC) < 0 || pipe2(a->err, O_CLOEXEC) < 0) {
		close_fd(&a->out[0]);
		close_fd(&a->out[1]);
		free(a);
		return api_error(r, 500, "cannot make pipes");
	}
	char cfg[PATH_MAX];
	json_t *c = bx_path_join(cfg, sizeof(cfg), NULL, "%s/config.json", rec.box_dir) == 0 ? json_load_file(cfg, 0, NULL)
											     : NULL;
	a->tty = json_is_true(json_object_get(json_object_get(c, "Config"), "Tty"));
	json_decref(c);
	/* a stream the client did not ask for is read and dropped */
	(void)want_out;
	(void)want_err;
	if (bx_box_is_running(&rec)) {
		if (hand_over(rec.run_dir, a->out[1], a->err[1], &err) < 0) {
			close_fd(&a->out[0]);
			close_fd(&a->out[1]);
			close_fd(&a->err[0]);
			close_fd(&a->err[1]);
			free(a);
			return api_fail(r, &err);
		}
		close_fd(&a->out[1]);
		close_fd(&a->err[1]);
	} else {
		/* until its start: the start hands the write ends over (api_attach_take) */
		pthread_mutex_lock(&r->svc->lock);
		int slot = -1;
		for (int i = 0; i < API_PENDING_MAX && slot < 0; i++)
			if (!r->svc->pending[i].used)
				slot = i;
		if (slot >= 0) {
			r->svc->pending[slot].used = true;
			snprintf(r->svc->pending[slot].id, sizeof(r->svc->pending[slot].id), "%s", rec.id);
			r->svc->pending[slot].out_w = a->out[1];
			r->svc->pending[slot].err_w = a->err[1];
		}
		pthread_mutex_unlock(&r->svc->lock);
		if (slot < 0) {
			close_fd(&a->out[0]);
			close_fd(&a->out[1]);
			close_fd(&a->err[0]);
			close_fd(&a->err[1]);
			free(a);
			return api_error(r, 503, "too many attaches waiting for their box's start");
		}
	}
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, a);
	if (!resp)
		return api_error(r, 500, "out of memory");
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	return api_reply(r, 101, resp);
}
