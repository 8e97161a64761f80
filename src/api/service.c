/* The Engine API service: its socket, libmicrohttpd, and its end (service.h).
 *
 * Threads: libmicrohttpd runs one thread per connection
 * (MHD_USE_THREAD_PER_CONNECTION). Every box operation is a blocking call of
 * the box library (a stop waits for the VM, a start for the guest), and the
 * streams (logs -f, wait) block too, in their own connection's thread: one
 * client waiting never holds up another. A stream blocks in poll() on its
 * source and on the client's socket (POLLHUP: the peer closed; a half-close
 * is no hang-up, the docker CLI half-closes an attach), so a client that hangs up
 * ends its stream at once and MHD frees what it held (api_req, the log
 * reader). Chosen over suspended connections on one thread: the library's
 * calls are synchronous, and a thread each keeps them so. */
#include "service.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "route.h"
#include "tls.h"
#include "../common/clock.h"
#include "../common/safetext.h"
#include "../common/unixsock.h"

/* connections open now, and an eventfd poked when one closes: the idle timeout counts from then */
struct service {
	struct api_svc svc;
	atomic_int open;
	int closed_fd;
};

const char *api_arg(const struct api_req *r, const char *key)
{
	return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool api_arg_bool(const struct api_req *r, const char *key)
{
	const char *v = api_arg(r, key);
	return v && (!strcmp(v, "1") || !strcasecmp(v, "true"));
}

int api_client_fd(const struct api_req *r)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	return ci ? ci->connect_fd : -1;
}

enum MHD_Result api_reply(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, "Api-Version", API_VERSION);
	MHD_add_response_header(resp, "Server", "boxvm/" BOXVM_VERSION " (linux)");
	MHD_add_response_header(resp, "Docker-Experimental", "false");
	MHD_add_response_header(resp, "Ostype", "linux");
	enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

enum MHD_Result api_json(struct api_req *r, unsigned status, json_t *body)
{
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY) : NULL;
	json_decref(body);
	if (!text)
		return api_error(r, 500, "out of memory");
	size_t len = strlen(text);
	text[len++] = '\n'; /* (json_dumps' NUL becomes Docker's trailing newline) */
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp)
		free(text);
	else
		MHD_add_response_header(resp, "Content-Type", "application/json");
	return api_reply(r, status, resp);
}

enum MHD_Result api_empty(struct api_req *r, unsigned status)
{
	return api_reply(r, status, MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT));
}

enum MHD_Result api_error(struct api_req *r, unsigned status, const char *fmt, ...)
{
	char msg[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	json_t *o = json_pack("{s:s}", "message", msg);
	if (!o) { /* not UTF-8 (a path from the request, a guest's words): escaped */
		char safe[BX_SAFE_TEXT_SIZE(sizeof(msg))];
		bx_safe_text(safe, sizeof(safe), msg, strlen(msg));
		o = json_pack("{s:s}", "message", safe);
	}
	return o ? api_json(r, status, o) : MHD_NO;
}

enum MHD_Result api_fail(struct api_req *r, const struct bx_err *err)
{
	unsigned status = err->errnum == ENOENT ? 404 : err->errnum == EEXIST ? 409 : err->errnum == EINVAL ? 400 : 500;
	return api_error(r, status, "%s", err->msg);
}

static enum MHD_Result dispatch(struct api_req *r, const char *url)
{
	struct bx_err err = {0};
	if (api_route_split(url, &r->path, &err) < 0)
		return api_error(r, 400, "%s", err.msg);
	if (r->body_too_big)
		return api_error(r, 413, "the request body is larger than %d bytes", API_BODY_MAX);
	const char *m = r->method, *path = r->path, *action;
	char id[256];
	bool get = !strcmp(m, "GET"), head = !strcmp(m, "HEAD");
	if (!strcmp(path, "/_ping") && (get || head))
		return api_ping(r);
	if (!strcmp(path, "/version") && get)
		return api_version(r);
	if (!strcmp(path, "/info") && get)
		return api_info(r);
	if (!strcmp(path, "/commit") && !strcmp(m, "POST"))
		return api_commit(r);
	if (!strcmp(path, "/build") && !strcmp(m, "POST"))
		return api_build(r);
	if (!strcmp(path, "/containers/prune"))
		return api_containers_prune(r);
	if (!strcmp(path, "/build/prune"))
		return api_build_prune(r);
	if (!strcmp(path, "/containers/json") || !strcmp(path, "/containers/create"))
		return api_containers(r, NULL, path + strlen("/containers/"));
	if (api_route_match(path, "/containers/", id, sizeof(id), &action) && !strcmp(action, "archive"))
		return api_archive(r, id);
	if (api_route_match(path, "/containers/", id, sizeof(id), &action))
		return api_containers(r, id, action);
	enum MHD_Result more;
	if (api_images_more(r, path, &more))
		return more;
	if (api_route_match(path, "/exec/", id, sizeof(id), &action))
		return api_exec(r, id, action);
	if (!strcmp(path, "/images/json"))
		return api_images(r, NULL, "json");
	/* an image's name has slashes: /images/NAME/json */
	if (!strncmp(path, "/images/", 8) && strlen(path) > 13 && !strcmp(path + strlen(path) - 5, "/json")) {
		snprintf(id, sizeof(id), "%.*s", (int)(strlen(path) - 13), path + 8);
		return api_images(r, id, "json");
	}
	if (!strcmp(path, "/volumes"))
		return api_volumes(r, NULL);
	if (api_route_match(path, "/volumes/", id, sizeof(id), &action) && !*action)
		return api_volumes(r, id);
	if (!strcmp(path, "/networks"))
		return api_networks(r, NULL, "");
	if (api_route_match(path, "/networks/", id, sizeof(id), &action))
		return api_networks(r, id, action);
	if (!strcmp(path, "/events") && get)
		return api_events(r);
	return api_error(r, 404, "page not found");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct api_req *r = *con_cls;
	if (!r) {
		/* the headers: the body (if any) follows in more calls */
		struct bx_err err = {0};
		if (!(r = calloc(1, sizeof(*r))))
			return MHD_NO;
		r->conn = conn;
		r->svc = cls;
		r->method = method;
		r->streamed = api_upload_wanted(conn, method, url);
		r->up_fd = r->up_op = -1;
		r->denied = r->svc->tls && !api_tls_client_verified(conn);
		*con_cls = r;
		if (bx_paths_init(&r->p, &err) < 0)
			r->p.data[0] = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		size_t n = *upload_size;
		*upload_size = 0;
		if (r->denied)
			return MHD_YES; /* nothing of an unknown client's is kept */
		if (r->streamed) {
			api_upload_chunk(r, upload_data, n);
			return MHD_YES;
		}
		if (r->body_too_big || r->body_len + n > API_BODY_MAX) {
			r->body_too_big = true;
			return MHD_YES;
		}
		char *nb = realloc(r->body, r->body_len + n + 1);
		if (!nb)
			return MHD_NO;
		memcpy(nb + r->body_len, upload_data, n);
		r->body = nb;
		r->body_len += n;
		r->body[r->body_len] = 0;
		return MHD_YES;
	}
	if (r->denied)
		return api_error(r, 403, "a client certificate signed by the service's --tlscacert is required");
	if (!r->p.data[0])
		return api_error(r, 500, "boxvm's directories are not usable (BOXVM_ROOT, BOXVM_RUNTIME_DIR)");
	return dispatch(r, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct api_req *r = *con_cls;
	if (r) {
		api_upload_end(r);
		free(r->body);
		free(r);
	}
	*con_cls = NULL;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct service *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		atomic_fetch_add(&s->open, 1);
		return;
	}
	atomic_fetch_sub(&s->open, 1);
	uint64_t one = 1;
	if (write(s->closed_fd, &one, sizeof(one)) < 0) {
		/* (the counter cannot overflow here: the main loop reads it) */
	}
}

/* The socket: refused if another service answers there; a stale one is
 * replaced. 0660 and, when the group exists, group boxvm: root and that
 * group may drive boxvm through it (the socket is the trust boundary). */
static int listen_on(const char *path, struct bx_err *err)
{
	struct bx_err e;
	int probe = bx_unix_connect(path, &e);
	if (probe >= 0) {
		close(probe);
		return bx_fail(err, 0, "%s is served already (another boxvm system service?); stop it or use -H", path);
	}
	int fd = bx_unix_listen(path, 64, 0, err);
	if (fd < 0)
		return -1;
	struct group *g = getgrnam("boxvm");
	if ((g && chown(path, (uid_t)-1, g->gr_gid) < 0) || chmod(path, 0660) < 0) {
		bx_fail(err, errno, "cannot set the owner and mode of %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

int bx_api_serve(const struct bx_api_service *o, struct bx_err *err)
{
	struct bx_paths p;
	if (bx_paths_init(&p, err) < 0)
		return -1;
	char path[PATH_MAX];
	if (o->socket_path)
		snprintf(path, sizeof(path), "%s", o->socket_path);
	else if (bx_path_join(path, sizeof(path), err, "%s/docker.sock", p.run) < 0 || bx_mkdir_p(p.run, 0700, err) < 0)
		return -1;
	/* a client that hangs up mid-reply must not kill the service */
	signal(SIGPIPE, SIG_IGN);
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	/* blocked before MHD's threads start, so they inherit the mask and the signalfd gets them */
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	int sfd = signalfd(-1, &stop, SFD_CLOEXEC);
	static struct service s; /* (large: its table of pending attaches) */
	s.closed_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&s.svc.lock, NULL);
	if (sfd < 0 || s.closed_fd < 0) {
		bx_fail(err, errno, "cannot set up the service's signals");
		goto fail_fds;
	}
	bool tcp = o->tcp_host != NULL;
	struct api_tls_pem pem = {0};
	if (tcp && api_tls_load(o, &pem, err) < 0)
		goto fail_fds;
	s.svc.tls = tcp;
	int lfd = tcp ? api_tls_listen(o->tcp_host, o->tcp_port, err) : listen_on(path, err);
	if (lfd < 0) {
		api_tls_free(&pem);
		goto fail_fds;
	}
	struct MHD_OptionItem tls_opts[] = {
		{MHD_OPTION_HTTPS_MEM_KEY, 0, pem.key},
		{MHD_OPTION_HTTPS_MEM_CERT, 0, pem.cert},
		{MHD_OPTION_HTTPS_MEM_TRUST, 0, pem.ca}, /* asks each client for a certificate (checked per request) */
		{MHD_OPTION_END, 0, NULL},
	};
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			MHD_ALLOW_UPGRADE | (tcp ? MHD_USE_TLS : 0),
		0, NULL, NULL, on_request, &s.svc, MHD_OPTION_LISTEN_SOCKET, lfd, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
		MHD_OPTION_NOTIFY_CONNECTION, on_connection, &s, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0,
		MHD_OPTION_ARRAY, tcp ? tls_opts : &tls_opts[3], MHD_OPTION_END);
	if (!d) {
		bx_fail(err, 0, "cannot start the HTTP server on %s%s", tcp ? "tcp://" : "", tcp ? o->tcp_host : path);
		close(lfd);
		if (!tcp)
			unlink(path);
		api_tls_free(&pem);
		goto fail_fds;
	}
	if (tcp)
		fprintf(stderr, "boxvm: serving the Docker Engine API (v%s) on tcp://%s:%s (TLS, client certificates "
				"required)\n", API_VERSION, o->tcp_host, o->tcp_port);
	else
		fprintf(stderr, "boxvm: serving the Docker Engine API (v%s) on unix://%s\n", API_VERSION, path);
	/* until a stop signal, or timeout_s with no connection open */
	long long idle_since = bx_mono_ms();
	for (;;) {
		int wait = -1;
		if (o->timeout_s > 0 && atomic_load(&s.open) == 0) {
			long long left = idle_since + (long long)o->timeout_s * 1000 - bx_mono_ms();
			if (left <= 0)
				break;
			wait = (int)left;
		}
		struct pollfd pfd[2] = {{.fd = sfd, .events = POLLIN}, {.fd = s.closed_fd, .events = POLLIN}};
		int n = poll(pfd, 2, wait);
		if (n < 0 && errno != EINTR)
			break;
		if (pfd[0].revents)
			break;
		if (pfd[1].revents) {
			uint64_t v;
			if (read(s.closed_fd, &v, sizeof(v)) < 0) {
				/* (nonblocking: nothing to read is fine) */
			}
			idle_since = bx_mono_ms();
		}
	}
	/* closes the listening socket and every connection, joins their threads */
	MHD_stop_daemon(d);
	api_tls_free(&pem);
	if (!tcp)
		unlink(path);
	close(sfd);
	close(s.closed_fd);
	return 0;
fail_fds:
	if (sfd >= 0)
		close(sfd);
	if (s.closed_fd >= 0)
		close(s.closed_fd);
	return -1;
}
