/* POST /containers/ID/attach: the hijacked connection (HTTP 101, then
 * Docker's raw stream) of `docker run` without -d and `docker attach`, with
 * stdin (docker run -i, -it); and POST /containers/ID/resize.
 *
 * A thread of the connection attaches to the box's shim over its
 * attach.sock: main's stdout and stderr go into two pipes handed over
 * (SCM_RIGHTS, BX_ATTACH_KEEP_FDS), which the thread frames onto the
 * client's socket (raw on a terminal) until both end (main exited) or the
 * client hangs up. With stdin the client's socket itself is handed over as
 * main's stdin (the shim reads it: the docker CLI's half-close is main's
 * EOF), and the thread keeps the attach socket for as long as it relays: the
 * shim ends stdin when it closes, and resizes go over it (RESIZE). docker run
 * attaches before it starts the box: the thread then waits in the service's
 * table of attaches for the start's word (api_attach_take), the shim keeping
 * main's output until the thread comes (bx_box_start_held). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "api.h"
#include "route.h"
#include "../client/relay.h"
#include "../client/shim_client.h"
#include "../common/unixsock.h"
#include "../proto/frame.h"
#include "../proto/msg.h"
#include "../store/state.h"

struct attach {
	struct api_svc *svc;
	char id[65];
	char run_dir[PATH_MAX];
	int slot;                    /* its entry in svc->pending */
	int out[2], err[2];          /* pipes: the shim writes [1], we read [0] */
	int wake_r, resize_r;        /* the start's word; new terminal sizes */
	int ctl;                     /* the attach socket, held while stdin is relayed */
	bool tty, in, want[2];
	MHD_socket sock;
	struct MHD_UpgradeResponseHandle *urh;
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void attach_free(struct attach *a)
{
	close_fd(&a->out[0]);
	close_fd(&a->out[1]);
	close_fd(&a->err[0]);
	close_fd(&a->err[1]);
	close_fd(&a->wake_r);
	close_fd(&a->resize_r);
	close_fd(&a->ctl);
	free(a);
}

/* its entry goes (and with it the write ends of its wake and resize pipes) */
static void drop_entry(struct attach *a)
{
	if (a->slot < 0)
		return;
	pthread_mutex_lock(&a->svc->lock);
	close(a->svc->pending[a->slot].wake_w);
	close(a->svc->pending[a->slot].resize_w);
	a->svc->pending[a->slot].used = false;
	pthread_mutex_unlock(&a->svc->lock);
	a->slot = -1;
}

/* Attach to the box's shim: the write ends go to it (ours are dropped: EOF
 * comes when the shim drops its copies); with stdin the client's socket too,
 * and the attach socket stays ours. */
static int hand_over(struct attach *a, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/attach.sock", a->run_dir) < 0)
		return -1;
	int in = a->in ? a->sock : open("/dev/null", O_RDONLY | O_CLOEXEC);
	int sock = in >= 0 ? bx_unix_connect(path, err) : -1;
	const int fds[3] = {in, a->out[1], a->err[1]};
	unsigned flags = BX_ATTACH_KEEP_FDS | (a->in ? BX_ATTACH_STDIN : 0);
	int rc = sock >= 0 ? bx_shim_send_attach_fds(sock, flags, fds, err) : -1;
	if (in < 0)
		bx_fail(err, errno, "cannot open /dev/null");
	if (in >= 0 && !a->in)
		close(in);
	close_fd(&a->out[1]);
	close_fd(&a->err[1]);
	if (rc == 0 && a->in)
		a->ctl = sock;
	else if (sock >= 0)
		close(sock);
	return rc;
}

void api_attach_take(struct api_svc *svc, const char *id, bool started)
{
	pthread_mutex_lock(&svc->lock);
	for (int i = 0; i < API_PENDING_MAX; i++)
		if (svc->pending[i].used && !svc->pending[i].woken && !strcmp(svc->pending[i].id, id)) {
			char word = started ? 1 : 0;
			if (write(svc->pending[i].wake_w, &word, 1) != 1) {
				/* (an empty pipe takes a byte) */
			}
			svc->pending[i].woken = true;
		}
	pthread_mutex_unlock(&svc->lock);
}

bool api_attach_pending(struct api_svc *svc, const char *id)
{
	bool found = false;
	pthread_mutex_lock(&svc->lock);
	for (int i = 0; i < API_PENDING_MAX && !found; i++)
		found = svc->pending[i].used && !svc->pending[i].woken && !strcmp(svc->pending[i].id, id);
	pthread_mutex_unlock(&svc->lock);
	return found;
}

int api_send_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd pf = {.fd = fd, .events = POLLOUT};
			poll(&pf, 1, -1);
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* until the start's word: true to attach, false when the start failed or the client left */
static bool await_start(struct attach *a)
{
	for (;;) {
		struct pollfd pfd[2] = {{.fd = a->wake_r, .events = POLLIN}, {.fd = a->sock, .events = 0}};
		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		if (pfd[1].revents)
			return false;
		char word = 0;
		return read(a->wake_r, &word, 1) == 1 && word == 1;
	}
}

/* the attach socket: the shim's ERROR and EXIT are not needed (the pipes' end
 * is main's), so read and dropped; its close ends nothing but itself */
static void drain_ctl(struct attach *a)
{
	char buf[4096];
	ssize_t n = recv(a->ctl, buf, sizeof(buf), MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		close_fd(&a->ctl);
}

static void send_resizes(struct attach *a)
{
	uint8_t b[4 * 16];
	ssize_t n = read(a->resize_r, b, sizeof(b));
	if (n >= 4 && a->ctl >= 0 && bx_relay_send_msg(a->ctl, BX_M_RESIZE, b + (n / 4 - 1) * 4, 4, NULL) < 0)
		close_fd(&a->ctl);
}

static void relay(struct attach *a)
{
	char buf[8 + 32768];
	for (;;) {
		struct pollfd pfd[5] = {{.fd = a->out[0], .events = POLLIN},
					{.fd = a->err[0], .events = POLLIN},
					{.fd = a->sock, .events = 0},
					{.fd = a->ctl, .events = POLLIN},
					{.fd = a->resize_r, .events = POLLIN}};
		if (pfd[0].fd < 0 && pfd[1].fd < 0)
			break; /* main's streams ended */
		if (poll(pfd, 5, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pfd[2].revents)
			break; /* the client hung up */
		if (pfd[3].revents)
			drain_ctl(a);
		if (pfd[4].revents)
			send_resizes(a);
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
			if (!a->want[s])
				continue; /* a stream the client did not ask for is read and dropped */
			if (hdr)
				api_frame_header((unsigned char *)buf, s + 1, (size_t)n);
			failed = api_send_all(a->sock, buf, hdr + (size_t)n) < 0;
		}
		if (failed)
			break;
	}
}

static void *attach_run(void *arg)
{
	struct attach *a = arg;
	struct bx_err err = {0};
	if (await_start(a)) {
		if (hand_over(a, &err) < 0)
			fprintf(stderr, "boxvm: attach to box %.12s: %s\n", a->id, err.msg);
		else
			relay(a);
	}
	drop_entry(a);
	/* the shim may hold the client's socket as main's stdin: the client sees its end now */
	shutdown(a->sock, SHUT_RDWR);
	MHD_upgrade_action(a->urh, MHD_UPGRADE_ACTION_CLOSE);
	attach_free(a);
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
	if (pthread_create(&t, &at, attach_run, a) != 0) {
		drop_entry(a);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
		attach_free(a);
	}
	pthread_attr_destroy(&at);
}

/* its entry in the table of attaches: -1 when full */
static int add_entry(struct api_svc *svc, const char *id, int wake_w, int resize_w, bool woken)
{
	int slot = -1;
	pthread_mutex_lock(&svc->lock);
	for (int i = 0; i < API_PENDING_MAX && slot < 0; i++)
		if (!svc->pending[i].used)
			slot = i;
	if (slot >= 0) {
		svc->pending[slot].used = true;
		svc->pending[slot].woken = woken;
		snprintf(svc->pending[slot].id, sizeof(svc->pending[slot].id), "%s", id);
		svc->pending[slot].wake_w = wake_w;
		svc->pending[slot].resize_w = resize_w;
	}
	pthread_mutex_unlock(&svc->lock);
	return slot;
}

enum MHD_Result api_attach(struct api_req *r, const char *ref)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, ref, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
	if (api_arg_bool(r, "logs"))
		return api_error(r, 400, "attach with logs=1 is not served yet by boxvm's API: use GET /containers/ID/logs");
	if (!MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Upgrade"))
		return api_error(r, 400, "attach needs a hijacked connection (Connection: Upgrade, Upgrade: tcp)");
	if (rec.status == BX_BOX_PAUSED)
		return api_error(r, 409, "You cannot attach to a paused container, unpause it first");
	char cfg[PATH_MAX];
	json_t *c = bx_path_join(cfg, sizeof(cfg), NULL, "%s/config.json", rec.box_dir) == 0 ? json_load_file(cfg, 0, NULL)
											     : NULL;
	json_t *config = json_object_get(c, "Config");
	bool tty = json_is_true(json_object_get(config, "Tty"));
	/* stdin reaches main only in a box made with it open (-i), as Docker's */
	bool in = api_arg_bool(r, "stdin") && json_is_true(json_object_get(config, "OpenStdin"));
	json_decref(c);
	struct attach *a = calloc(1, sizeof(*a));
	if (!a)
		return api_error(r, 500, "out of memory");
	a->out[0] = a->out[1] = a->err[0] = a->err[1] = a->wake_r = a->resize_r = a->ctl = -1;
	a->slot = -1;
	a->svc = r->svc;
	a->tty = tty;
	a->in = in;
	a->want[0] = api_arg_bool(r, "stdout");
	a->want[1] = api_arg_bool(r, "stderr");
	snprintf(a->id, sizeof(a->id), "%s", rec.id);
	snprintf(a->run_dir, sizeof(a->run_dir), "%s", rec.run_dir);
	int wake[2] = {-1, -1}, rsz[2] = {-1, -1};
	if (pipe2(a->out, O_CLOEXEC) < 0 || pipe2(a->err, O_CLOEXEC) < 0 || pipe2(wake, O_CLOEXEC) < 0 ||
	    pipe2(rsz, O_CLOEXEC | O_NONBLOCK) < 0) {
		close_fd(&wake[0]);
		close_fd(&wake[1]);
		attach_free(a);
		return api_error(r, 500, "cannot make pipes");
	}
	a->wake_r = wake[0];
	a->resize_r = rsz[0];
	/* a running box: attached at once; else at its start (api_attach_take) */
	bool running = bx_box_is_running(&rec);
	if (running && write(wake[1], "\1", 1) != 1) {
		/* (an empty pipe takes a byte) */
	}
	if ((a->slot = add_entry(r->svc, rec.id, wake[1], rsz[1], running)) < 0) {
		close(wake[1]);
		close(rsz[1]);
		attach_free(a);
		return api_error(r, 503, "too many attaches open (at most %d)", API_PENDING_MAX);
	}
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, a);
	if (!resp) {
		drop_entry(a);
		attach_free(a);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	enum MHD_Result ret = api_reply(r, 101, resp);
	if (ret != MHD_YES) { /* refused by MHD: on_upgrade never comes */
		drop_entry(a);
		attach_free(a);
	}
	return ret;
}

bool api_size_args(const struct api_req *r, uint8_t b[4])
{
	const char *hs = api_arg(r, "h"), *ws = api_arg(r, "w");
	char *e1 = NULL, *e2 = NULL;
	long h = hs ? strtol(hs, &e1, 10) : -1, w = ws ? strtol(ws, &e2, 10) : -1;
	if (!hs || !ws || *e1 || *e2 || h < 0 || h > 65535 || w < 0 || w > 65535)
		return false;
	bx_put_u16(b, (uint16_t)h);
	bx_put_u16(b + 2, (uint16_t)w);
	return true;
}

enum MHD_Result api_resize(struct api_req *r, const char *ref)
{
	struct bx_err err = {0};
	struct bx_box_record rec;
	if (bx_state_lookup(&r->p, ref, &rec, &err) < 0)
		return err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
	uint8_t b[4];
	if (!api_size_args(r, b))
		return api_error(r, 400, "invalid height or width: h and w are numbers of rows and columns (0-65535)");
	/* to the box's attaches (one holds its attach socket at most: the shim takes one
	 * client); one waiting for the start (docker run resizes while the VM boots)
	 * gets it once attached */
	bool attached = false;
	pthread_mutex_lock(&r->svc->lock);
	for (int i = 0; i < API_PENDING_MAX; i++)
		if (r->svc->pending[i].used && !strcmp(r->svc->pending[i].id, rec.id)) {
			attached = true;
			if (write(r->svc->pending[i].resize_w, b, 4) != 4) {
				/* a full pipe: the relay is behind, and only the latest size counts */
			}
		}
	pthread_mutex_unlock(&r->svc->lock);
	if (!attached && !bx_box_is_running(&rec))
		return api_error(r, 409, "Container %s is not running", ref);
	return api_empty(r, 200);
}
