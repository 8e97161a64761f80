/* Health checks of a running box (Docker's HEALTHCHECK): the shim runs the
 * check on a timer of its event loop, as an exec session on the agent's
 * exec service (4089, one mux channel per check, the same path as `boxvm
 * exec`), so checks go on whether or not a CLI runs. A check that outlives
 * its timeout has its channel closed (the agent SIGKILLs its process group)
 * and counts as failed. Results go through the pure state machine of
 * src/store/health.c into BOXDIR/health.json (temp + rename); a change of
 * status is a health_status event.
 *
 * Bounds against a hostile guest: the check's messages are parsed as they
 * arrive and their bytes credited back at once, keeping at most 4096 bytes
 * of output (the rest is counted as truncation), so what waits here is at
 * most one incomplete message (BX_MSG_MAX); a guest that never answers, or
 * floods, is ended by the timeout; one check runs at a time. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/goduration.h"
#include "../proto/spec.h"
#include "../store/events.h"
#include "../store/health.h"
#include "shim.h"

struct shim_health {
	struct bx_health_config cfg;
	enum bx_health_probe probe;
	bool active;               /* main runs: checks are due (Docker's monitor) */
	struct bx_health state;
	long long started_ns;      /* main's start (unix ns): the start period counts from it */
	long long next_ms;         /* the next check (monotonic); 0: none planned */
	/* the check that runs now (chan_id 0: none) */
	uint32_t chan_id;
	long long deadline_ms;
	bool started;              /* the guest's STARTED arrived */
	struct bx_msgbuf in;
	struct bx_health_capture cap;
	struct bx_health_result res;
	bool save_failed;          /* health.json could not be written (logged once until it can) */
	bool frozen;               /* the VM is paused: no checks (Docker stops its monitor) */
};

void shim_health_init(struct shim *s)
{
	if (!s->lc.have_state)
		return; /* the OCI runtime's boxes have no Docker config */
	struct bx_health_config cfg;
	struct bx_err err;
	if (bx_health_config_read(s->spec.box_dir, &cfg, &err) < 0) {
		shim_log(s, true, "health check: %s; no checks", err.msg);
		return;
	}
	enum bx_health_probe probe = bx_health_probe_of(&cfg);
	if (probe == BX_PROBE_NONE) {
		bx_health_config_free(&cfg);
		return;
	}
	struct shim_health *h = calloc(1, sizeof(*h));
	if (!h) {
		shim_log(s, true, "health check: out of memory; no checks");
		bx_health_config_free(&cfg);
		return;
	}
	h->cfg = cfg;
	h->probe = probe;
	bx_msgbuf_init(&h->in);
	/* the log of earlier starts is kept (Docker) */
	int r = bx_health_read(s->spec.box_dir, &h->state, &err);
	if (r < 0)
		shim_log(s, true, "health check: %s; starting a new log", err.msg);
	if (r <= 0)
		memset(&h->state, 0, sizeof(h->state));
	s->health = h;
}

static void save(struct shim *s)
{
	struct bx_err err;
	bool failed = bx_health_write(s->spec.box_dir, &s->health->state, &err) < 0;
	/* once per spell of failures (a full disk): shim.log is not flooded each interval */
	if (failed && !s->health->save_failed)
		shim_log(s, true, "health check: %s", err.msg);
	s->health->save_failed = failed;
}

/* The running check is abandoned: its channel closed (the agent kills what
 * is left of its process). */
static void drop_check(struct shim *s)
{
	struct shim_health *h = s->health;
	struct bx_chan *ch = h->chan_id && !s->mux.dead ? bx_mux_chan(&s->mux, h->chan_id) : NULL;
	if (ch && ch->state != BX_CH_CLOSING)
		bx_mux_close(&s->mux, ch);
	h->chan_id = 0;
	h->deadline_ms = 0;
	bx_msgbuf_free(&h->in);
	bx_msgbuf_init(&h->in);
}

/* A check ended (res complete): into the state, the file, maybe an event;
 * the next one an interval later (Docker counts it from the end). */
static void finish_check(struct shim *s)
{
	struct shim_health *h = s->health;
	drop_check(s);
	h->res.end_ns = bx_real_ns();
	bool changed = bx_health_record(&h->state, &h->res, &h->cfg, h->started_ns);
	save(s);
	if (changed) {
		char action[64];
		snprintf(action, sizeof(action), "health_status: %s", bx_health_status_name(h->state.status));
		struct bx_err err;
		if (bx_event_box(s->spec.box_dir, action, NULL, &err) < 0)
			shim_log(s, false, "health event: %s", err.msg);
	}
	h->next_ms = bx_mono_ms() + bx_health_interval_ns(&h->cfg) / 1000000;
}

static void fail_check(struct shim *s, const char *text)
{
	struct shim_health *h = s->health;
	h->res.exit_code = -1;
	bx_health_result_text(&h->res, text);
	finish_check(s);
}

/* Open the channel and send the request: argv is Test[1:] (CMD) or
 * /bin/sh -c Test[1] (CMD-SHELL); environment, user and working directory
 * are the box's (the agent's exec defaults, as Docker's). */
static void start_check(struct shim *s, long long now)
{
	struct shim_health *h = s->health;
	memset(&h->res, 0, sizeof(h->res));
	memset(&h->cap, 0, sizeof(h->cap));
	h->res.start_ns = bx_real_ns();
	h->started = false;
	h->next_ms = 0;
	struct bx_spec spec;
	bx_spec_init(&spec);
	struct bx_err err;
	uint8_t *req = NULL;
	size_t req_len = 0;
	int rc = 0;
	if (h->probe == BX_PROBE_SHELL)
		rc = bx_spec_add_arg(&spec, "/bin/sh", &err) < 0 || bx_spec_add_arg(&spec, "-c", &err) < 0 ||
				     bx_spec_add_arg(&spec, h->cfg.test[1], &err) < 0
			     ? -1
			     : 0;
	else
		for (size_t i = 1; rc == 0 && i < h->cfg.ntest; i++)
			rc = bx_spec_add_arg(&spec, h->cfg.test[i], &err);
	if (rc == 0)
		rc = bx_spec_encode(&spec, &req, &req_len, &err);
	bx_spec_free(&spec);
	struct bx_chan *ch = NULL;
	if (rc == 0 && req_len > BX_MSG_MAX)
		rc = bx_fail(&err, 0, "the health check's command is too long");
	if (rc == 0 && !(ch = bx_mux_open(&s->mux, BX_PORT_EXEC, &err)))
		rc = -1;
	if (rc == 0 && bx_mux_send_room(&s->mux, ch) < BX_MSG_HDR_SIZE + req_len) {
		/* a guest that leaves its port unread: the check cannot even be asked */
		bx_mux_close(&s->mux, ch);
		rc = bx_fail(&err, 0, "the box does not read its exec service");
	}
	if (rc < 0) {
		free(req);
		fail_check(s, err.msg);
		return;
	}
	uint8_t hdr[BX_MSG_HDR_SIZE];
	bx_msg_encode_hdr(hdr, BX_M_REQ, (uint32_t)req_len);
	bx_mux_send(&s->mux, ch, hdr, sizeof(hdr));
	bx_mux_send(&s->mux, ch, req, req_len);
	free(req);
	h->chan_id = ch->id;
	h->deadline_ms = now + bx_health_timeout_ns(&h->cfg) / 1000000;
}

void shim_health_start(struct shim *s)
{
	struct shim_health *h = s->health;
	if (!h)
		return;
	h->active = true;
	h->frozen = false;
	h->started_ns = bx_real_ns();
	bx_health_reset(&h->state);
	save(s);
	/* Docker's first check comes one interval after the start */
	h->next_ms = bx_mono_ms() + bx_health_interval_ns(&h->cfg) / 1000000;
}

void shim_health_stop(struct shim *s)
{
	struct shim_health *h = s->health;
	if (!h || !h->active)
		return;
	drop_check(s);
	h->active = false;
	h->next_ms = 0;
	bx_health_stopped(&h->state);
	save(s);
}

void shim_health_tick(struct shim *s, long long now)
{
	struct shim_health *h = s->health;
	if (!h || !h->active)
		return;
	/* Docker's pause stops the monitor and marks the box unhealthy (no
	 * event, streak and log kept); unpause starts it again, the first check
	 * an interval later, the status as it was until then */
	bool frozen = shim_fsm_frozen(s->state);
	if (frozen != h->frozen) {
		h->frozen = frozen;
		if (frozen) {
			drop_check(s);
			bx_health_stopped(&h->state);
			save(s);
		}
		h->next_ms = frozen ? 0 : now + bx_health_interval_ns(&h->cfg) / 1000000;
		return;
	}
	if (frozen)
		return;
	if (h->chan_id && now >= h->deadline_ms) {
		char text[96], d[32];
		bx_goduration_format(bx_health_timeout_ns(&h->cfg), d, sizeof(d));
		snprintf(text, sizeof(text), "Health check exceeded timeout (%s)", d);
		fail_check(s, text);
		return;
	}
	if (h->chan_id || !h->next_ms || now < h->next_ms)
		return;
	if (s->state != SHIM_UP || s->mux.dead) {
		/* a pause on its way, or about to end: the check waits an interval */
		h->next_ms = now + bx_health_interval_ns(&h->cfg) / 1000000;
		return;
	}
	start_check(s, now);
}

long long shim_health_wake(const struct shim *s)
{
	const struct shim_health *h = s->health;
	if (!h || !h->active)
		return 0;
	return h->chan_id ? h->deadline_ms : h->next_ms;
}

bool shim_health_owns(const struct shim *s, const struct bx_chan *ch)
{
	return s->health && s->health->chan_id && ch->id == s->health->chan_id;
}

void shim_health_on_open_result(struct shim *s, struct bx_chan *ch, int errnum)
{
	if (!errnum)
		return;
	char text[128];
	snprintf(text, sizeof(text), "the box's exec service refused the health check: %s", strerror(errnum));
	s->health->chan_id = 0; /* the mux frees a refused channel */
	fail_check(s, text);
}

void shim_health_on_data(struct shim *s, struct bx_chan *ch, const uint8_t *buf, size_t len)
{
	struct shim_health *h = s->health;
	struct bx_err err;
	/* credit back at once: what is kept is bounded by the capture */
	bx_mux_consumed(&s->mux, ch, len);
	if (bx_msgbuf_append(&h->in, buf, len, &err) < 0) {
		fail_check(s, err.msg);
		return;
	}
	struct bx_msg m;
	int r;
	while ((r = bx_msgbuf_next(&h->in, &m, &err)) > 0) {
		switch (m.kind) {
		case BX_M_STARTED:
			h->started = true;
			break;
		case BX_M_STDOUT:
		case BX_M_STDERR:
			bx_health_capture_add(&h->cap, m.payload, m.len);
			break;
		case BX_M_ERROR:
			/* the check could not run (not found...): Docker's exec error, -1 */
			if (!h->started) {
				char text[1100];
				snprintf(text, sizeof(text), "%.*s", (int)(m.len < 1024 ? m.len : 1024), (const char *)m.payload);
				fail_check(s, text);
				return;
			}
			break;
		case BX_M_EXIT:
			h->res.exit_code = m.len == 4 ? (int32_t)bx_get_u32(m.payload) : -1;
			bx_health_capture_text(&h->cap, &h->res);
			finish_check(s);
			return;
		default:
			break;
		}
	}
	if (r < 0)
		fail_check(s, "protocol error on the health check's channel");
}

void shim_health_on_close(struct shim *s, struct bx_chan *ch)
{
	s->health->chan_id = 0;
	fail_check(s, "the box's exec service closed the health check without an exit code");
}

void shim_health_free(struct shim *s)
{
	struct shim_health *h = s->health;
	if (!h)
		return;
	bx_msgbuf_free(&h->in);
	bx_health_config_free(&h->cfg);
	free(h);
	s->health = NULL;
}
