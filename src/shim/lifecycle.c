/* The box's life beyond one boot (issue 4): the state record the shim keeps
 * current, the json-file log it owns, and the restart policy's decisions
 * (when the loop restarts is the state machine's, fsm.c).
 *
 * CLI -> shim requests arrive as signals, so no socket has to be free; what
 * each means in each state is fsm.c's:
 *   SIGUSR1 with sigqueue value N: deliver signal N to main (stop, kill);
 *   SIGUSR2 with sigqueue value 1/0: pause/unpause the VM (pause.c);
 *   SIGTERM: kill the VM now (exit 137), as before.
 * Whether a stop was the user's (no restart) is in the record
 * (ManuallyStopped), written by the CLI under the record's lock before it
 * signals, so the shim reads it when it decides. */
#include <errno.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/crashpoint.h"
#include "../common/paths.h"
#include "../store/events.h"
#include "../store/keptlog.h"
#include "../store/state.h"
#include "../store/volumes.h"
#include "../vm/mounts.h"
#include "shim.h"

void shim_lc_init(struct shim *s)
{
	struct bx_box_record r;
	struct bx_err err;
	/* the record names our pid from here on; a CLI request must not find
	 * SIGUSR1/SIGUSR2 at their default action (terminate) before shim_signals runs */
	sigset_t usr;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigaddset(&usr, SIGUSR2);
	sigprocmask(SIG_BLOCK, &usr, NULL);
	/* boxes started without a record (tests/tools/shimrun.py) keep the old
	 * behaviour: no log, output held for the client */
	if (bx_state_read(s->spec.box_dir, &r, &err) < 0)
		return;
	s->lc.have_state = true;
	/* no client is coming (run -d, start): take main's output into the log
	 * at once, as if one had attached; this also skips the wait for a
	 * client when the box fails */
	if (!r.hold_output)
		s->ever_attached = true;
	s->lc.restart_count = r.restart_count;
	if (bx_box_config_read(s->spec.box_dir, &s->lc.cfg, &err) < 0)
		shim_log(s, true, "%s (using defaults)", err.msg);
	if (bx_log_open(&s->lc.log, s->spec.box_dir, &s->lc.cfg.log, &err) < 0)
		shim_log(s, true, "%s: the box's output will not be logged", err.msg);
	else
		s->lc.log_open = true;
}

struct booting_ctx {
	int pid;
	unsigned long long start_time;
};

static int set_starting(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	struct booting_ctx *c = ctx;
	if (r->status == BX_BOX_REMOVING) /* an rm won the race: this start must not touch the box */
		return bx_fail(err, 0, "box %s is being removed", r->name[0] ? r->name : r->id);
	if (r->status != BX_BOX_RESTARTING) /* a restart by the policy shows as one until main runs */
		r->status = BX_BOX_STARTING;
	r->shim_pid = c->pid;
	r->shim_start_time = c->start_time;
	return 0;
}

int shim_lc_booting(struct shim *s, struct bx_err *err)
{
	s->lc.run_t0_ms = bx_mono_ms();
	if (!s->lc.have_state)
		return 0;
	struct booting_ctx c = {.pid = getpid()};
	struct bx_err e = {0};
	if (bx_proc_start_time(c.pid, &c.start_time, &e) < 0 || bx_state_update(s->spec.box_dir, set_starting, &c, NULL, &e) < 0) {
		shim_log(s, true, "cannot record the box as starting: %s", e.msg);
		if (err)
			*err = e;
		return -1; /* without its record naming us, nobody could stop this box */
	}
	bx_crash_point("shim.booting");
	bx_event_box_volumes(s->spec.box_dir, true); /* Docker: "mount" before "start" */
	return 0;
}

static int set_running(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	if (r->status != BX_BOX_STARTING && r->status != BX_BOX_RESTARTING)
		return 1; /* a stop or kill already decided how this boot ends */
	r->status = BX_BOX_RUNNING;
	r->started_ns = bx_real_ns();
	r->error[0] = '\0';
	r->hold_output = false; /* only the first boot after start waits for the client */
	r->oom_killed = false;  /* Docker: OOMKilled tells of this run */
	return 0;
}

static int set_oom(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	if (r->oom_killed)
		return 1;
	r->oom_killed = true;
	return 0;
}

void shim_lc_oom_file(struct shim *s, bool final)
{
	long long now = bx_mono_ms();
	if (!s->lc.oom_kills || (final && !s->lc.oom_file_behind))
		return;
	if (!final && s->lc.oom_file_ms && now - s->lc.oom_file_ms < 1000) {
		s->lc.oom_file_behind = true;
		return;
	}
	char path[PATH_MAX], text[32];
	struct bx_err err;
	int n = snprintf(text, sizeof(text), "%llu\n", s->lc.oom_kills);
	if (bx_path_join(path, sizeof(path), &err, "%s/oom_kills", s->spec.box_dir) < 0 ||
	    bx_write_file_atomic(path, text, (size_t)n, 0600, &err) < 0)
		shim_log(s, true, "cannot record the OOM kill count: %s", err.msg);
	s->lc.oom_file_ms = now;
	s->lc.oom_file_behind = false;
}

void shim_lc_oom(struct shim *s)
{
	s->lc.oom_kills++;
	shim_lc_oom_file(s, false);
	if (!s->lc.have_state)
		return;
	struct bx_err err;
	if (!s->lc.oom_recorded && bx_state_update(s->spec.box_dir, set_oom, NULL, NULL, &err) < 0)
		shim_log(s, true, "cannot record the OOM kill: %s", err.msg);
	s->lc.oom_recorded = true;
	/* one event a second at most: a guest can make OOM kills on purpose, and
	 * the event log is shared by every box */
	long long now = bx_mono_ms();
	if (s->lc.oom_event_ms && now - s->lc.oom_event_ms < 1000) {
		s->lc.oom_unreported++;
		return;
	}
	if (s->lc.oom_unreported)
		shim_log(s, true, "%llu more OOM kills in the box (one event a second at most)", s->lc.oom_unreported);
	s->lc.oom_unreported = 0;
	s->lc.oom_event_ms = now;
	bx_event_box(s->spec.box_dir, "oom", NULL, NULL);
}

void shim_lc_started(struct shim *s)
{
	struct bx_err err;
	s->lc.oom_recorded = false;
	if (s->lc.have_state && bx_state_update(s->spec.box_dir, set_running, NULL, NULL, &err) < 0)
		shim_log(s, true, "cannot record the box as running: %s", err.msg);
	else if (s->lc.have_state)
		bx_event_box(s->spec.box_dir, "start", NULL, NULL);
	shim_netns_poke(s); /* its names resolve from now on */
	bx_crash_point("shim.running");
}

void shim_lc_output(struct shim *s, int stream, const void *buf, size_t len)
{
	if (!s->lc.log_open)
		return;
	struct bx_err err;
	if (bx_log_write(&s->lc.log, stream, buf, len, bx_real_ns(), &err) < 0) {
		if (err.errnum == ENOSPC || err.errnum == EDQUOT) {
			/* a full disk: this output is lost, the next is tried again */
			if (!s->lc.log_dropped++)
				shim_log(s, true, "%s: main's output is not logged until there is room again", err.msg);
			return;
		}
		shim_log(s, true, "%s: logging stops", err.msg);
		bx_log_close(&s->lc.log);
		s->lc.log_open = false;
		return;
	}
	if (s->lc.log_dropped) {
		shim_log(s, true, "there is room again: logging resumed (%llu writes of main's output were lost)",
			 s->lc.log_dropped);
		s->lc.log_dropped = 0;
	}
}

bool shim_lc_manually_stopped(struct shim *s)
{
	struct bx_box_record r;
	return bx_state_read(s->spec.box_dir, &r, NULL) == 0 && r.manually_stopped;
}

bool shim_lc_restart_wanted(struct shim *s)
{
	if (!s->lc.have_state || s->end_reason == END_KILLED)
		return false; /* SIGTERM to the shim is a kill: never undone */
	/* `update --restart` may have changed the policy since the box started */
	struct bx_box_config now;
	if (bx_box_config_read(s->spec.box_dir, &now, NULL) == 0)
		s->lc.cfg.restart = now.restart;
	return bx_restart_should(&s->lc.cfg.restart, s->exit_code, s->lc.restart_count, shim_lc_manually_stopped(s));
}

struct exited_ctx {
	int code;
	bool restarting;
	int restart_count;
	const char *start_error; /* main never ran in this boot, and why (NULL: it ran) */
};

static int set_exited(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	struct exited_ctx *c = ctx;
	r->exit_code = c->code;
	if (c->start_error) {
		/* Docker: a start that failed leaves a box that never ran "created",
		 * with the code and State.Error; it did not finish a run */
		r->status = r->started_ns ? BX_BOX_EXITED : BX_BOX_CREATED;
		snprintf(r->error, sizeof(r->error), "%.*s", (int)strcspn(c->start_error, "\n"), c->start_error);
	} else {
		r->status = c->restarting ? BX_BOX_RESTARTING : BX_BOX_EXITED;
		r->finished_ns = bx_real_ns();
	}
	r->restart_count = c->restart_count;
	r->hold_output = false;
	if (!c->restarting) {
		r->shim_pid = 0;
		r->shim_start_time = 0;
	}
	return 0;
}

/* Docker's "die" (with the exit code), then each volume's "unmount" */
static void shim_lc_died(const char *box_dir, int code)
{
	char c[16];
	snprintf(c, sizeof(c), "%d", code);
	bx_event_box(box_dir, "die", (const char *const[]){"exitCode", c, NULL}, NULL);
	bx_event_box_volumes(box_dir, false);
}

static void record_exit(struct shim *s, bool restarting)
{
	struct exited_ctx c = {.code = s->exit_code, .restarting = restarting, .restart_count = s->lc.restart_count};
	/* the guest's refusal to start main (126, 127), or boxvm's own failure before it ran */
	if (!s->main_started && !restarting && (s->start_error[0] || s->fail_text[0]))
		c.start_error = s->start_error[0] ? s->start_error : s->fail_text;
	struct bx_err err;
	if (s->lc.have_state && bx_state_update(s->spec.box_dir, set_exited, &c, NULL, &err) < 0)
		shim_log(s, true, "cannot record the box's exit: %s", err.msg);
	else if (s->lc.have_state && !c.start_error) /* Docker: no "die" for a start that failed */
		shim_lc_died(s->spec.box_dir, c.code);
	shim_netns_poke(s); /* its names no longer resolve */
}

long long shim_lc_restart_begin(struct shim *s)
{
	long long ran = bx_mono_ms() - s->lc.run_t0_ms;
	if (ran >= BX_RESTART_STABLE_MS)
		s->lc.consecutive = 0; /* a stable run: start the backoff over */
	long long delay = bx_restart_backoff_ms(s->lc.consecutive++);
	if (s->lc.log_open)
		bx_log_flush(&s->lc.log, bx_real_ns(), NULL);
	s->lc.restart_count++;
	shim_log(s, true, "main exited with %d; restart %d in %lld ms (policy %s)", s->exit_code, s->lc.restart_count,
		 delay, bx_restart_kind_name(s->lc.cfg.restart.kind));
	return delay;
}

void shim_lc_restart_recorded(struct shim *s)
{
	record_exit(s, true);
}

void shim_lc_restart_cancelled(struct shim *s)
{
	s->lc.restart_count--; /* it did not happen */
}

/* DATA of this box: box_dir is DATA/boxes/<id>. */
static int data_dir(const struct shim *s, char *out, size_t size)
{
	char tmp[PATH_MAX];
	if (bx_path_join(tmp, sizeof(tmp), NULL, "%s", s->spec.box_dir) < 0)
		return -1;
	return bx_path_join(out, size, NULL, "%s", dirname(dirname(tmp)));
}

/* The box ended for good: flush the log, record the exit, and for --rm drop
 * the name (the directory goes in shim_finish), keeping a bounded copy of the
 * log of a failed run. */
static int set_removing(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	r->status = BX_BOX_REMOVING;
	return 0;
}

void shim_lc_finished(struct shim *s)
{
	if (s->lc.log_open) {
		bx_log_flush(&s->lc.log, bx_real_ns(), NULL);
		bx_log_close(&s->lc.log);
		s->lc.log_open = false;
	}
	if (!s->lc.have_state)
		return;
	record_exit(s, false);
	if (!s->spec.auto_remove)
		return;
	struct bx_paths p;
	struct bx_box_record r;
	memset(&p, 0, sizeof(p));
	if (data_dir(s, p.data, sizeof(p.data)) < 0 || bx_state_read(s->spec.box_dir, &r, NULL) < 0)
		return;
	/* the removal is a store operation (src/store/state_sweep.c): if we die
	 * before the directory is gone (shim_finish), the record says "removing"
	 * and the next listing finishes the job */
	s->lc.remove_op_fd = bx_store_op_begin(p.data, NULL);
	s->lc.nanon_volumes = bx_box_anon_volumes(s->spec.box_dir, s->lc.anon_volumes, BX_MAX_SHARES);
	if (s->exit_code != 0)
		bx_keptlog_save(&p, &r, NULL);
	bx_state_update(s->spec.box_dir, set_removing, NULL, NULL, NULL);
	bx_crash_point("shim.removing");
	bx_name_release(&p, r.name, r.id);
	bx_event_box(s->spec.box_dir, "destroy", NULL, NULL); /* the record says "removing": it goes */
}

void shim_lc_remove_anon_volumes(struct shim *s)
{
	struct bx_paths p;
	memset(&p, 0, sizeof(p));
	if (s->lc.nanon_volumes == 0 || data_dir(s, p.data, sizeof(p.data)) < 0)
		return;
	for (int i = 0; i < s->lc.nanon_volumes; i++) {
		struct bx_err err = {0};
		/* one another box took meanwhile (-v NAME:...) stays, as in Docker */
		if (bx_volume_remove(&p, s->lc.anon_volumes[i], true, &err) < 0)
			shim_log(s, false, "anonymous volume kept: %s", err.msg);
	}
	s->lc.nanon_volumes = 0;
}
