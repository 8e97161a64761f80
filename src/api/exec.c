/* The Engine API's exec: POST /containers/ID/exec (create), POST
 * /exec/ID/start (the hijacked connection, or Detach), POST
 * /exec/ID/resize and GET /exec/ID/json.
 *
 * An exec instance lives in the service's memory only (struct api_execs,
 * bounded; an entry goes when its box's directory does, or, the table being
 * full, the oldest finished one). A start connects to the box's exec.sock
 * as `boxvm exec` does (bx_exec_connect) and runs the client library's
 * relay (bx_relay_run, in its service mode) in a thread of its own: the
 * client's socket is stdin, output goes back to it in Docker's 8-byte frames
 * (raw with Tty), and a resize request reaches the relay through a pipe.
 * The entry's exit code is set before the client's connection closes: the
 * docker CLI inspects the exec as soon as its stream ends. */
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
#include "../client/exec_client.h"
#include "../client/relay.h"
#include "../client/tty_keys.h"
#include "../common/boxid.h"
#include "../proto/frame.h"
#include "../store/state.h"

#define API_EXEC_MAX 256

enum exec_state { EXEC_CREATED, EXEC_RUNNING, EXEC_EXITED };

struct api_exec {
	bool used;
	char id[BX_ID_LEN + 1], box_id[BX_ID_LEN + 1];
	char box_dir[PATH_MAX];
	struct bx_spec spec;
	bool in, out, err, tty;
	char detach_keys[64];
	enum exec_state state;
	int exit_code, pid;
	int resize_w;       /* while it runs: the relay's resize pipe */
	uint8_t size[4];    /* a size given before the start (rows, cols) */
	bool have_size;
	unsigned long long seq; /* creation order: the oldest finished one goes first */
};

struct api_execs {
	unsigned long long seq;
	struct api_exec e[API_EXEC_MAX];
};

/* One running exec: the relay's thread owns it. */
struct session {
	struct api_svc *svc;
	struct api_exec *x; /* a running entry is never dropped */
	int sock;           /* the box's exec session */
	int resize_r;
	bool tty, want[2];
	MHD_socket client;  /* -1: detached (output dropped) */
	struct MHD_UpgradeResponseHandle *urh;
	uint8_t *pre;       /* input that came with the upgrade */
	size_t pre_len;
	struct bx_detach keys;
	char what[64];
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* the table, made on first use; with svc->lock held */
static struct api_execs *table(struct api_svc *svc)
{
	if (!svc->execs)
		svc->execs = calloc(1, sizeof(*svc->execs));
	return svc->execs;
}

/* entries whose box has gone (removed): dropped; with svc->lock held */
static void sweep(struct api_execs *t)
{
	for (int i = 0; i < API_EXEC_MAX; i++) {
		struct api_exec *x = &t->e[i];
		if (x->used && x->state != EXEC_RUNNING && access(x->box_dir, F_OK) < 0 && errno == ENOENT) {
			bx_spec_free(&x->spec);
			x->used = false;
		}
	}
}

/* the entry of id (a full exec ID); with svc->lock held */
static struct api_exec *find(struct api_svc *svc, const char *id)
{
	struct api_execs *t = table(svc);
	if (!t)
		return NULL;
	sweep(t);
	for (int i = 0; i < API_EXEC_MAX; i++)
		if (t->e[i].used && !strcmp(t->e[i].id, id))
			return &t->e[i];
	return NULL;
}

/* a free slot, else the oldest finished entry's; NULL when every one runs or waits */
static struct api_exec *slot(struct api_execs *t)
{
	struct api_exec *old = NULL;
	for (int i = 0; i < API_EXEC_MAX; i++) {
		struct api_exec *x = &t->e[i];
		if (!x->used)
			return x;
		if (x->state == EXEC_EXITED && (!old || x->seq < old->seq))
			old = x;
	}
	if (old) {
		bx_spec_free(&old->spec);
		old->used = false;
	}
	return old;
}

/* a box exec can run in: a reply (Docker's 404/409) when it cannot */
static bool exec_box(struct api_req *r, const char *ref, struct bx_box_record *rec, enum MHD_Result *reply)
{
	struct bx_err err = {0};
	if (bx_state_lookup(&r->p, ref, rec, &err) < 0) {
		*reply = err.errnum == ENOENT ? api_error(r, 404, "No such container: %s", ref) : api_fail(r, &err);
		return false;
	}
	if (!bx_box_is_running(rec)) {
		*reply = api_error(r, 409, "Container %s is not running", rec->id);
		return false;
	}
	if (rec->status == BX_BOX_PAUSED) {
		*reply = api_error(r, 409, "Container %s is paused, unpause the container before exec", rec->id);
		return false;
	}
	return true;
}

/* The create body (Docker's ExecConfig) into x; -1 with a bad parameter's message. */
static int parse_create(json_t *body, struct api_exec *x, struct bx_err *err)
{
	static const char *const known[] = {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "Cmd", "Env",
					    "WorkingDir", "User", "Privileged", "DetachKeys", "Detach", "ConsoleSize",
					    "Container", NULL};
	if (!json_is_object(body))
		return api_bad(err, "the exec's config must be a JSON object");
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		bool ok = false;
		for (size_t i = 0; known[i] && !ok; i++)
			ok = !strcmp(key, known[i]);
		if (!ok && !json_is_null(v) && !json_is_false(v))
			return api_bad(err, "exec's %s is not supported by boxvm", key);
	}
	json_t *cmd = json_object_get(body, "Cmd");
	if (!json_is_array(cmd) || !json_array_size(cmd))
		return api_bad(err, "No exec command specified");
	size_t i;
	json_array_foreach(cmd, i, v) {
		if (!json_is_string(v))
			return api_bad(err, "Cmd must be a list of strings");
		if (bx_spec_add_arg(&x->spec, json_string_value(v), err) < 0)
			return -1;
	}
	json_t *env = json_object_get(body, "Env");
	if (env && !json_is_null(env) && !json_is_array(env))
		return api_bad(err, "Env must be a list of NAME=VALUE strings");
	json_array_foreach(env, i, v) {
		const char *kv = json_string_value(v);
		if (!kv || !*kv || *kv == '=')
			return api_bad(err, "invalid environment variable in Env: use NAME=VALUE");
		if (strchr(kv, '=') && bx_spec_add_env(&x->spec, kv, err) < 0) /* a bare NAME: unset, left out */
			return -1;
	}
	const char *s = json_string_value(json_object_get(body, "WorkingDir"));
	if (s && *s && (*s != '/' ? api_bad(err, "the working directory '%s' is invalid, it needs to be an absolute path", s)
				  : bx_spec_set_cwd(&x->spec, s, err)) < 0)
		return -1;
	s = json_string_value(json_object_get(body, "User"));
	if (s && *s && bx_spec_set_user(&x->spec, s, err) < 0)
		return -1;
	if (json_is_true(json_object_get(body, "Privileged"))) /* docker exec --privileged: every capability */
		x->spec.caps = (struct bx_spec_caps){.set = true, .bounding = BX_CAPS_ALL, .effective = BX_CAPS_ALL,
						     .permitted = BX_CAPS_ALL};
	s = json_string_value(json_object_get(body, "DetachKeys"));
	struct bx_detach keys;
	if (s && *s && (strlen(s) >= sizeof(x->detach_keys) || bx_detach_parse(s, &keys, err) < 0))
		return api_bad(err, "Invalid detach keys (%s) provided", s);
	snprintf(x->detach_keys, sizeof(x->detach_keys), "%s", s ? s : "");
	x->in = json_is_true(json_object_get(body, "AttachStdin"));
	x->out = json_is_true(json_object_get(body, "AttachStdout"));
	x->err = json_is_true(json_object_get(body, "AttachStderr"));
	x->tty = json_is_true(json_object_get(body, "Tty"));
	json_t *cs = json_object_get(body, "ConsoleSize");
	if (json_array_size(cs) == 2 && json_integer_value(json_array_get(cs, 0)) > 0) {
		bx_put_u16(x->size, (uint16_t)json_integer_value(json_array_get(cs, 0)));
		bx_put_u16(x->size + 2, (uint16_t)json_integer_value(json_array_get(cs, 1)));
		x->have_size = true;
	}
	x->spec.tty = x->tty;
	x->spec.stdin_open = x->in;
	/* Docker's daemon: a terminal's TERM unless the caller set one */
	if (x->tty && !bx_spec_has_env(&x->spec, "TERM") && bx_spec_add_env(&x->spec, "TERM=xterm", err) < 0)
		return -1;
	return 0;
}

enum MHD_Result api_exec_create(struct api_req *r, const char *ref)
{
	struct bx_box_record rec;
	enum MHD_Result reply;
	if (!exec_box(r, ref, &rec, &reply))
		return reply;
	json_error_t jerr;
	json_t *body = json_loadb(r->body ? r->body : "", r->body_len, 0, &jerr);
	if (!body)
		return api_error(r, 400, "invalid JSON in the request body: %s", jerr.text);
	struct api_exec *x = calloc(1, sizeof(*x));
	struct bx_err err = {0};
	if (!x) {
		json_decref(body);
		return api_error(r, 500, "out of memory");
	}
	bx_spec_init(&x->spec);
	int rc = parse_create(body, x, &err);
	json_decref(body);
	if (rc < 0 || bx_boxid_new(x->id, &err) < 0) {
		bx_spec_free(&x->spec);
		free(x);
		return api_fail(r, &err);
	}
	snprintf(x->box_id, sizeof(x->box_id), "%s", rec.id);
	snprintf(x->box_dir, sizeof(x->box_dir), "%s", rec.box_dir);
	x->used = true;
	x->state = EXEC_CREATED;
	x->resize_w = -1;
	pthread_mutex_lock(&r->svc->lock);
	struct api_execs *t = table(r->svc);
	struct api_exec *at = NULL;
	if (t) {
		sweep(t);
		if ((at = slot(t))) {
			x->seq = ++t->seq;
			*at = *x; /* (the spec's buffers move with it) */
		}
	}
	pthread_mutex_unlock(&r->svc->lock);
	if (!at) {
		bx_spec_free(&x->spec);
		free(x);
		return api_error(r, 503, "too many exec instances waiting or running (at most %d)", API_EXEC_MAX);
	}
	json_t *o = json_pack("{s:s}", "Id", x->id);
	free(x);
	return api_json(r, 201, o);
}

/* the process's output to the client: framed (stream 1 stdout, 2 stderr) unless on a terminal */
static int to_client(void *ctx, int which, const uint8_t *p, size_t len)
{
	struct session *s = ctx;
	if (s->client < 0 || !s->want[which])
		return 0;
	unsigned char hdr[8];
	api_frame_header(hdr, which + 1, len);
	if (!s->tty && api_send_all(s->client, hdr, sizeof(hdr)) < 0)
		return -1;
	return api_send_all(s->client, p, len);
}

static void on_started(void *ctx, int pid)
{
	struct session *s = ctx;
	pthread_mutex_lock(&s->svc->lock);
	s->x->pid = pid;
	pthread_mutex_unlock(&s->svc->lock);
}

static void *session_run(void *arg)
{
	struct session *s = arg;
	struct bx_relay_svc rs = {
		.out = to_client,
		.started = on_started,
		.ctx = s,
		.resize_fd = s->resize_r,
		.hup_fd = s->client,
		.in_pre = s->pre,
		.in_pre_len = s->pre_len,
	};
	struct bx_relay_opts o = {
		.in_fd = s->x->in && s->client >= 0 ? s->client : -1,
		.out_fd = -1,
		.err_fd = -1,
		.tty = s->tty,
		.tty_fd = -1,
		.detach = s->keys,
		.what = s->what,
		.svc = &rs,
	};
	struct bx_err err = {0};
	struct bx_relay_result res = {0};
	int rc = bx_relay_run(s->sock, &o, &res, &err);
	close_fd(&s->sock); /* (a detach or a hang-up: the shim ends the session) */
	if (rc < 0 && err.errnum != ECONNRESET && s->client >= 0) {
		/* the client is still there: why its command ended, on its stderr */
		char msg[sizeof(err.msg) + 2];
		int n = snprintf(msg, sizeof(msg), "%s\r\n", err.msg);
		bool was = s->want[1];
		s->want[1] = true;
		to_client(s, 1, (const uint8_t *)msg, n > 0 ? (size_t)n : 0);
		s->want[1] = was;
	}
	/* the end is recorded before the client's connection closes: the CLI inspects it then */
	pthread_mutex_lock(&s->svc->lock);
	s->x->state = EXEC_EXITED;
	s->x->exit_code = rc == 0 ? res.code : 137; /* lost: the box or the client went, the process with it */
	if (rc == 0 && res.pid)
		s->x->pid = res.pid;
	close_fd(&s->x->resize_w);
	pthread_mutex_unlock(&s->svc->lock);
	close_fd(&s->resize_r);
	if (s->urh)
		MHD_upgrade_action(s->urh, MHD_UPGRADE_ACTION_CLOSE);
	free(s->pre);
	free(s);
	return NULL;
}

static int spawn(struct session *s)
{
	pthread_t t;
	pthread_attr_t at;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &at, session_run, s);
	pthread_attr_destroy(&at);
	return rc;
}

/* a session that never ran: its entry ends (exit code 126, as a failed start) */
static void session_abandon(struct session *s)
{
	close_fd(&s->sock);
	pthread_mutex_lock(&s->svc->lock);
	s->x->state = EXEC_EXITED;
	s->x->exit_code = 126;
	close_fd(&s->x->resize_w);
	pthread_mutex_unlock(&s->svc->lock);
	close_fd(&s->resize_r);
	free(s->pre);
	free(s);
}

static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
		       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	struct session *s = cls;
	s->client = sock;
	s->urh = urh;
	if (extra_in_size && (s->pre = malloc(extra_in_size))) {
		memcpy(s->pre, extra_in, extra_in_size);
		s->pre_len = extra_in_size;
	}
	if (spawn(s) != 0) {
		session_abandon(s);
		MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE);
	}
}

static enum MHD_Result start(struct api_req *r, const char *id)
{
	json_error_t jerr;
	json_t *body = r->body_len ? json_loadb(r->body, r->body_len, 0, &jerr) : json_object();
	if (!body)
		return api_error(r, 400, "invalid JSON in the request body: %s", jerr.text);
	bool detach = json_is_true(json_object_get(body, "Detach"));
	json_decref(body);

	/* the entry is claimed (running) first: a second start is a conflict */
	pthread_mutex_lock(&r->svc->lock);
	struct api_exec *x = find(r->svc, id);
	enum exec_state was = x ? x->state : EXEC_CREATED;
	if (x && was == EXEC_CREATED)
		x->state = EXEC_RUNNING;
	char box_id[BX_ID_LEN + 1] = "";
	if (x)
		snprintf(box_id, sizeof(box_id), "%s", x->box_id);
	pthread_mutex_unlock(&r->svc->lock);
	if (!x)
		return api_error(r, 404, "No such exec instance: %s", id);
	if (was != EXEC_CREATED)
		return api_error(r, 409, "Error: Exec command %s %s", id, was == EXEC_RUNNING ? "is already running"
											       : "has already run");
	if (!detach && !MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "Upgrade")) {
		pthread_mutex_lock(&r->svc->lock);
		x->state = EXEC_CREATED; /* it may start later */
		pthread_mutex_unlock(&r->svc->lock);
		return api_error(r, 400, "exec start without Detach needs a hijacked connection (Connection: Upgrade, "
					 "Upgrade: tcp)");
	}
	struct bx_box_record rec;
	enum MHD_Result reply;
	struct bx_err err = {0};
	struct session *s = calloc(1, sizeof(*s));
	int rp[2] = {-1, -1};
	bool box_ok = s && exec_box(r, box_id, &rec, &reply);
	if (!box_ok || pipe2(rp, O_CLOEXEC | O_NONBLOCK) < 0) {
		pthread_mutex_lock(&r->svc->lock);
		x->state = EXEC_CREATED; /* it may start later */
		pthread_mutex_unlock(&r->svc->lock);
		bool refused = s && !box_ok;
		free(s);
		if (refused)
			return reply;
		return api_error(r, 500, "out of memory or file descriptors");
	}
	s->svc = r->svc;
	s->x = x;
	s->client = -1;
	s->resize_r = rp[0];
	s->tty = x->tty;
	s->want[0] = x->out;
	s->want[1] = x->err;
	bx_detach_parse(x->detach_keys[0] ? x->detach_keys : BX_DETACH_DEFAULT, &s->keys, NULL);
	snprintf(s->what, sizeof(s->what), "box %.12s", rec.id);
	pthread_mutex_lock(&r->svc->lock);
	x->resize_w = rp[1];
	if (x->have_size && write(rp[1], x->size, 4) != 4) {
		/* (an empty pipe takes 4 bytes) */
	}
	pthread_mutex_unlock(&r->svc->lock);
	/* connected before the reply: a box that cannot take it is an error the client reads as one */
	s->sock = bx_exec_connect(&rec, &x->spec, &err);
	if (s->sock < 0) {
		session_abandon(s);
		return api_fail(r, &err);
	}
	if (detach) {
		/* no client: output dropped, the end still recorded */
		if (spawn(s) != 0) {
			session_abandon(s);
			return api_error(r, 500, "cannot start a thread");
		}
		return api_empty(r, 200);
	}
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, s);
	if (!resp) {
		session_abandon(s);
		return api_error(r, 500, "out of memory");
	}
	MHD_add_response_header(resp, "Upgrade", "tcp");
	MHD_add_response_header(resp, "Content-Type", "application/vnd.docker.raw-stream");
	enum MHD_Result ret = api_reply(r, 101, resp);
	if (ret != MHD_YES)
		session_abandon(s); /* refused by MHD: on_upgrade never comes */
	return ret;
}

static enum MHD_Result resize(struct api_req *r, const char *id)
{
	uint8_t b[4];
	if (!api_size_args(r, b))
		return api_error(r, 400, "invalid height or width: h and w are numbers of rows and columns (0-65535)");
	pthread_mutex_lock(&r->svc->lock);
	struct api_exec *x = find(r->svc, id);
	enum exec_state st = x ? x->state : EXEC_EXITED;
	if (x && st == EXEC_CREATED) {
		memcpy(x->size, b, 4); /* the start applies it */
		x->have_size = true;
	} else if (x && st == EXEC_RUNNING && x->resize_w >= 0 && write(x->resize_w, b, 4) != 4) {
		/* a full pipe: the relay is behind on resizes, and only the latest counts */
	}
	pthread_mutex_unlock(&r->svc->lock);
	if (!x)
		return api_error(r, 404, "No such exec instance: %s", id);
	if (st == EXEC_EXITED)
		return api_error(r, 409, "exec %s is not running", id);
	return api_empty(r, 200);
}

static enum MHD_Result inspect(struct api_req *r, const char *id)
{
	pthread_mutex_lock(&r->svc->lock);
	struct api_exec *x = find(r->svc, id);
	json_t *o = NULL;
	if (x) {
		json_t *args = json_array();
		for (size_t i = 1; i < x->spec.nargs; i++)
			json_array_append_new(args, json_string(x->spec.args[i]));
		json_t *pc = json_pack("{s:b,s:s,s:o,s:b}", "tty", x->tty, "entrypoint", x->spec.args[0], "arguments", args,
				       "privileged", 0);
		if (pc && x->spec.user)
			json_object_set_new(pc, "user", json_string(x->spec.user));
		o = json_pack("{s:s,s:b,s:o,s:o,s:b,s:b,s:b,s:b,s:s,s:s,s:i}", "ID", x->id, "Running",
			      x->state == EXEC_RUNNING, "ExitCode",
			      x->state == EXEC_EXITED ? json_integer(x->exit_code) : json_null(), "ProcessConfig", pc,
			      "OpenStdin", x->in, "OpenStderr", x->err, "OpenStdout", x->out, "CanRemove", 0,
			      "ContainerID", x->box_id, "DetachKeys", x->detach_keys, "Pid", x->pid);
	}
	pthread_mutex_unlock(&r->svc->lock);
	if (!x)
		return api_error(r, 404, "No such exec instance: %s", id);
	return api_json(r, 200, o);
}

enum MHD_Result api_exec(struct api_req *r, const char *id, const char *action)
{
	bool post = !strcmp(r->method, "POST"), get = !strcmp(r->method, "GET");
	if (post && !strcmp(action, "start"))
		return start(r, id);
	if (post && !strcmp(action, "resize"))
		return resize(r, id);
	if (get && !strcmp(action, "json"))
		return inspect(r, id);
	return api_error(r, 404, "page not found");
}
