/* Docker's exec events for a session on exec.sock (exec_create, exec_start,
 * exec_die): the session's messages are watched as the relay passes them on
 * (the REQ that names the command, the guest's STARTED and EXIT), never
 * held or changed. Only sessions whose client asked (BX_EXEC_EVENTS: `exec`,
 * not the execs behind `top` and `cp`) are watched. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/boxid.h"
#include "../proto/msgscan.h"
#include "../proto/spec.h"
#include "../store/events.h"
#include "shim.h"

struct exec_watch {
	struct shim *s;
	struct bx_msgscan up, down; /* client -> guest, guest -> client */
	char id[BX_ID_LEN + 1];     /* Docker's execID */
	bool created, started, died;
};

struct exec_watch *shim_exec_watch_new(struct shim *s)
{
	struct exec_watch *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->s = s;
	bx_msgscan_init(&w->up, 1u << BX_M_REQ, BX_MSG_MAX); /* our own client's request */
	bx_msgscan_init(&w->down, (1u << BX_M_STARTED) | (1u << BX_M_EXIT), 4); /* the guest's: i32 only */
	if (bx_boxid_new(w->id, NULL) < 0) {
		free(w);
		return NULL;
	}
	return w;
}

void shim_exec_watch_free(struct exec_watch *w)
{
	if (!w)
		return;
	bx_msgscan_free(&w->up);
	bx_msgscan_free(&w->down);
	free(w);
}

/* "exec_create: sh -c echo hi": the command and its arguments joined by
 * spaces, a trailing one when there are none, as Docker writes it */
static void on_up(void *ctx, uint8_t kind, const uint8_t *payload, uint32_t len)
{
	struct exec_watch *w = ctx;
	struct bx_spec spec;
	bx_spec_init(&spec);
	if (w->created || bx_spec_decode(&spec, payload, len, NULL) < 0 || !spec.nargs) {
		bx_spec_free(&spec);
		return;
	}
	w->created = true;
	char cmd[900] = "";
	size_t used = 0;
	for (size_t i = 0; i < spec.nargs && used < sizeof(cmd); i++) {
		int n = snprintf(cmd + used, sizeof(cmd) - used, "%s%s", spec.args[i], i == 0 || i + 1 < spec.nargs ? " " : "");
		used += n > 0 ? (size_t)n : 0;
	}
	bx_spec_free(&spec);
	char action[1024];
	const char *const attrs[] = {"execID", w->id, NULL};
	snprintf(action, sizeof(action), "exec_create: %s", cmd);
	bx_event_box(w->s->spec.box_dir, action, attrs, NULL);
	snprintf(action, sizeof(action), "exec_start: %s", cmd);
	bx_event_box(w->s->spec.box_dir, action, attrs, NULL);
}

/* exec_die only for a process that ran: Docker has none for a command
 * that could not be started */
static void on_down(void *ctx, uint8_t kind, const uint8_t *payload, uint32_t len)
{
	struct exec_watch *w = ctx;
	if (kind == BX_M_STARTED) {
		w->started = true;
	} else if (kind == BX_M_EXIT && len == 4 && w->started && !w->died) {
		w->died = true;
		char code[16];
		snprintf(code, sizeof(code), "%d", (int32_t)((uint32_t)payload[0] | (uint32_t)payload[1] << 8 |
							      (uint32_t)payload[2] << 16 | (uint32_t)payload[3] << 24));
		bx_event_box(w->s->spec.box_dir, "exec_die", (const char *const[]){"execID", w->id, "exitCode", code, NULL},
			     NULL);
	}
}

void shim_exec_watch_up(struct exec_watch *w, const uint8_t *buf, size_t n)
{
	if (w && w->s->lc.have_state)
		bx_msgscan_feed(&w->up, buf, n, on_up, w);
}

void shim_exec_watch_down(struct exec_watch *w, const uint8_t *buf, size_t n)
{
	if (w && w->s->lc.have_state)
		bx_msgscan_feed(&w->down, buf, n, on_down, w);
}
