/* boxvm-shim [--sync-fd N] BOXDIR/vm.json: the supervisor of one box for its
 * whole life. See README for the contract with the CLI. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "../common/debug.h"
#include "../image/rootfs.h"
#include "shim.h"

static void shim_init(struct shim *s)
{
	memset(s, 0, sizeof(*s));
	s->log_fd = s->sig_fd = s->listen_fd = s->ctl_fd = s->cli_fd = s->exec_listen_fd = -1;
	s->out[0].fd = s->out[1].fd = s->in.fd = -1;
	s->vfs_pid = s->qemu_pid = -1;
	s->qemu_uid.lock_fd = -1;
	s->lc.remove_op_fd = -1;
	s->console.fd = s->qerr.fd = s->console.file.fd = s->qerr.file.fd = -1;
	s->debug = bx_debug_enabled();
}

/* Everything up to "ok": runtime dir, attach socket, virtiofsd, QEMU, link. */
/* What every boot of the VM needs; a restart by the policy (lifecycle.c)
 * runs this again after tearing the previous boot down. */
int shim_boot(struct shim *s, struct bx_err *err)
{
	if (shim_start_passt(s, err) < 0 || shim_start_virtiofsd(s, err) < 0 || shim_start_shares(s, err) < 0 ||
	    shim_aux_wait(s, err) < 0 || shim_netns_open_taps(s, err) < 0 || shim_start_qemu(s, err) < 0 || shim_connect_ctl(s, err) < 0)
		return -1;
	shim_link_init(s);
	return shim_link_start(s, err);
}

static int setup(struct shim *s, struct bx_err *err)
{
	/* bx_rootfs_ensure: the overlay root is gone after a host reboot; mount it again */
	if (bx_rootfs_ensure(s->spec.box_dir, err) < 0 || shim_signals(s, err) < 0 || shim_listen(s, err) < 0 ||
	    shim_exec_listen(s, err) < 0)
		return -1;
	return shim_boot(s, err);
}

static void on_signals(struct shim *s)
{
	struct signalfd_siginfo si;
	while (read(s->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			shim_reap(s);
		} else if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGHUP) {
			shim_log(s, true, "signal %u: stopping the box", si.ssi_signo);
			shim_begin_end(s, END_KILLED, 128 + SIGKILL, NULL);
		} else if (si.ssi_signo == SIGUSR1) {
			shim_lc_signal(s, &si);
		} else if (si.ssi_signo == SIGUSR2) {
			shim_pause_request(s, &si);
		}
		/* SIGINT: ignored; the CLI forwards ^C as a SIGNAL message */
	}
}

static void check_progress(struct shim *s, long long now)
{
	/* The VM is gone: once its last bytes are in and handed on (or the
	 * client is too slow for too long), decide how the box ended. */
	if (s->qemu_exited && !s->end && s->ctl_eof) {
		if (!s->drain_deadline_ms)
			s->drain_deadline_ms = now + 5000;
		shim_process_main(s);
		if (!s->end && (!shim_output_busy(s) || now >= s->drain_deadline_ms)) {
			char msg[160] = "";
			int st = s->qemu_status;
			if (WIFSIGNALED(st) && bx_cgroup_oom_kills(&s->qemu_cg) > 0)
				snprintf(msg, sizeof(msg),
					 "qemu ran out of memory: its ceiling is %llu MiB (the guest's RAM plus QEMU's own)",
					 (unsigned long long)(bx_qemu_memory_ceiling(s->spec.mem_mb,
										     !strcmp(s->spec.accel, "tcg")) >> 20));
			else if (WIFSIGNALED(st))
				snprintf(msg, sizeof(msg), "qemu was killed by signal %d", WTERMSIG(st));
			else if (WEXITSTATUS(st))
				snprintf(msg, sizeof(msg), "qemu exited with status %d", WEXITSTATUS(st));
			shim_begin_end(s, END_VM_GONE, BX_EXIT_ERROR, msg[0] ? msg : NULL);
		}
	}
	if (s->qemu_exited && !s->ctl_eof && s->ctl_fd >= 0)
		shim_link_readable(s); /* pick up the last bytes and the EOF */
	if (s->end && !s->qemu_exited && now >= s->stop_deadline_ms) {
		if (s->end == END_EXIT)
			shim_log(s, true, "the VM did not power off within 5 s of EXIT; killing it");
		shim_kill_child(s->qemu_pid, SIGKILL);
		s->stop_deadline_ms = now + 1000;
	}
}

static bool done(struct shim *s, long long now)
{
	return s->end && s->qemu_exited && (s->ctl_eof || s->ctl_fd < 0) &&
	       (!shim_output_busy(s) || now >= s->drain_deadline_ms);
}

static void loop(struct shim *s)
{
	for (;;) {
		long long now = bx_mono_ms();
		shim_link_tick(s, now);
		shim_pause_tick(s);
		check_progress(s, now);
		if (done(s, now))
			return;
		struct pollfd p[9 + 1 + SHIM_EXEC_MAX];
		int n = 0, i_sig, i_lis = -1, i_ctl = -1, i_cli = -1, i_in = -1, i_out = -1, i_con = -1, i_qerr = -1;
		p[i_sig = n++] = (struct pollfd){.fd = s->sig_fd, .events = POLLIN};
		/* always drained: QEMU must never wait on its console (console.c) */
		if (s->console.fd >= 0)
			p[i_con = n++] = (struct pollfd){.fd = s->console.fd, .events = POLLIN};
		if (s->qerr.fd >= 0)
			p[i_qerr = n++] = (struct pollfd){.fd = s->qerr.fd, .events = POLLIN};
		if (s->cli_fd < 0)
			p[i_lis = n++] = (struct pollfd){.fd = s->listen_fd, .events = POLLIN};
		/* not read while the guest leaves our output unread (backpressure, link.c) */
		if (s->ctl_fd >= 0 && !s->ctl_eof)
			p[i_ctl = n++] = (struct pollfd){
				.fd = s->ctl_fd, .events = (bx_mux_input_paused(&s->mux) ? 0 : POLLIN) |
							   (bx_mux_out_pending(&s->mux) ? POLLOUT : 0)};
		if (s->cli_fd >= 0)
			p[i_cli = n++] = (struct pollfd){.fd = s->cli_fd,
							 .events = (bq_size(&s->main_out) < 65536 ? POLLIN : 0) |
								   (bq_size(&s->cli_out) ? POLLOUT : 0)};
		if (s->in.fd >= 0 && s->main_id && !s->end && bq_size(&s->main_out) < 65536)
			p[i_in = n++] = (struct pollfd){.fd = s->in.fd, .events = POLLIN};
		if (shim_output_busy(s) && s->out[s->pend_stream].fd >= 0)
			p[i_out = n++] = (struct pollfd){.fd = s->out[s->pend_stream].fd, .events = POLLOUT};
		size_t i_exec = (size_t)n;
		n += (int)shim_exec_poll_fill(s, p + n, 1 + SHIM_EXEC_MAX);
		int timeout = 1000;
		long long wake[] = {s->hb_next_ms, s->main_retry_ms, s->end ? s->stop_deadline_ms : 0,
				    s->drain_deadline_ms,
				    s->hb_pong || s->main_activity ? 0 : s->t0_ms + s->spec.boot_timeout_s * 1000LL};
		for (size_t i = 0; i < sizeof(wake) / sizeof(wake[0]); i++)
			if (wake[i] && wake[i] - now < timeout)
				timeout = wake[i] > now ? (int)(wake[i] - now) : 0;
		if (s->qemu_exited && !s->ctl_eof)
			timeout = timeout > 10 ? 10 : timeout;
		if (poll(p, (nfds_t)n, timeout) < 0 && errno != EINTR) {
			shim_log(s, true, "poll: %s", strerror(errno));
			shim_begin_end(s, END_KILLED, BX_EXIT_ERROR, "internal error");
			continue;
		}
		if (p[i_sig].revents)
			on_signals(s);
		if (i_con >= 0 && p[i_con].revents)
			shim_capture_readable(s, &s->console);
		if (i_qerr >= 0 && p[i_qerr].revents)
			shim_capture_readable(s, &s->qerr);
		if (i_ctl >= 0 && p[i_ctl].revents & (POLLIN | POLLHUP | POLLERR))
			shim_link_readable(s);
		if (i_ctl >= 0 && p[i_ctl].revents & POLLOUT)
			shim_link_writable(s);
		if (i_lis >= 0 && p[i_lis].revents & POLLIN)
			shim_accept(s);
		if (i_cli >= 0 && s->cli_fd >= 0 && p[i_cli].revents & POLLOUT)
			shim_client_writable(s);
		if (i_cli >= 0 && s->cli_fd >= 0 && p[i_cli].revents & (POLLIN | POLLHUP | POLLERR))
			shim_client_readable(s);
		if (i_in >= 0 && s->in.fd >= 0 && p[i_in].revents)
			shim_stdin_readable(s);
		if (i_out >= 0 && p[i_out].revents)
			shim_process_main(s);
		shim_exec_poll_handle(s, p + i_exec, (size_t)n - i_exec);
		shim_link_writable(s);
	}
}

/* BOXVM_TEST_SHIM_EXIT_DELAY_MS (a test knob): linger that long after the
 * box is cleaned up, so tests can prove that stop, rm -f and run return only
 * once the shim has exited, whatever the timing. */
static void exit_delay_for_tests(void)
{
	const char *v = getenv("BOXVM_TEST_SHIM_EXIT_DELAY_MS");
	char *end;
	long ms = v ? strtol(v, &end, 10) : 0;
	if (v && *end == '\0' && ms > 0 && ms <= 60000)
		usleep((useconds_t)ms * 1000);
}

/* The box ended before its main ran, and a `run -d` or `start` still waits:
 * tell it why, last, once nothing of the box is left. The guest's refusal
 * (126, 127) keeps its exit code; anything else is boxvm's own (125). */
static void report_start_failure(struct shim *s)
{
	if (s->sync_fd < 0)
		return;
	char msg[256];
	if (s->end == END_EXIT && s->start_error[0]) {
		shim_sync_report(&s->sync_fd, s->exit_code, s->start_error);
		return;
	}
	if (s->fail_text[0]) {
		shim_sync_report(&s->sync_fd, BX_EXIT_ERROR, s->fail_text); /* cut to the reply's line */
		return;
	}
	if (s->end == END_KILLED) {
		snprintf(msg, sizeof(msg), "box %.12s was stopped before its command started", s->spec.id);
	} else {
		snprintf(msg, sizeof(msg), "box %.12s ended (exit code %d) before its command was reported started",
			 s->spec.id, s->exit_code);
	}
	shim_sync_report(&s->sync_fd, BX_EXIT_ERROR, msg);
}

static int usage(void)
{
	fprintf(stderr, "usage: boxvm-shim [--sync-fd N] BOXDIR/vm.json\n");
	return 2;
}

int main(int argc, char **argv)
{
	int sync_fd = -1;
	const char *spec_path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--sync-fd") && i + 1 < argc) {
			char *end;
			long v = strtol(argv[++i], &end, 10);
			if (*end || v < 0 || v > 65535 || fcntl((int)v, F_GETFD) < 0)
				return usage();
			sync_fd = (int)v;
			fcntl(sync_fd, F_SETFD, FD_CLOEXEC); /* never inherited by QEMU/virtiofsd */
		} else if (argv[i][0] != '-' && !spec_path) {
			spec_path = argv[i];
		} else {
			return usage();
		}
	}
	if (!spec_path)
		return usage();

	static struct shim s; /* large (the mux's channel table): not on the stack */
	shim_init(&s);
	s.sync_fd = sync_fd;
	s.test_hold_main = getenv("BOXVM_TEST_HOLD_MAIN");
	struct bx_err err;
	if (bx_vmspec_read(spec_path, &s.spec, &err) < 0) {
		fprintf(stderr, "boxvm-shim: %s\n", err.msg);
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, err.msg);
		return 1;
	}
	if (shim_daemonize(&s, &err) < 0) {
		/* we are the daemon already (the parent exited): report via sync fd */
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, err.msg);
		return 1;
	}
	s.t0_ms = bx_mono_ms();
	shim_log(&s, false, "starting box %s", s.spec.id);
	shim_lc_init(&s);
	/* from here on stop, kill and rm -f find this shim; an rm that marked
	 * the box first wins: nothing has started, nothing to clean but our dir */
	if (shim_lc_booting(&s, &err) < 0) {
		bx_rm_rf(s.spec.run_dir, NULL);
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, err.msg);
		return 1;
	}
	if (setup(&s, &err) < 0) {
		shim_log(&s, true, "start failed: %s", err.msg);
		shim_stop_children(&s); /* QEMU gone and its console drained before its tail is read */
		char tail[1024], msg[2200];
		if (s.qemu_pid > 0 && shim_console_tail(s.spec.box_dir, 5, tail, sizeof(tail)) == 0)
			snprintf(msg, sizeof(msg), "%s; last boot log lines: %s", err.msg, tail);
		else
			snprintf(msg, sizeof(msg), "%s", err.msg);
		s.end = END_KILLED; /* no diagnostics copy: the error goes to the CLI directly */
		s.exit_code = BX_EXIT_ERROR;
		s.ever_attached = true; /* nobody will attach: do not linger */
		/* clean up first, report last: when the CLI sees the error (and then
		 * EOF, as we exit), no process, socket or directory of the box is left */
		shim_finish(&s);
		shim_sync_report(&s.sync_fd, BX_EXIT_ERROR, msg);
		return 1;
	}
	/* run -d and start hear from us once main runs (link.c, main_started);
	 * a client that attaches at once (run, start -a) is told now: it gets
	 * main's story through the attach, and a box without a record (the OCI
	 * runtime's, tests' shimrun.py) keeps that older contract */
	if (!s.lc.have_state || !s.ever_attached)
		shim_sync_report(&s.sync_fd, 0, NULL);
	loop(&s);
	/* a main that never ran is a failed start, not an exit: no restart */
	while (s.sync_fd < 0 && shim_lc_restart_wanted(&s) && shim_lc_restart(&s) == 0)
		loop(&s); /* the restart policy: a fresh VM on the same rootfs */
	shim_exec_close_all(&s);
	shim_finish(&s);
	report_start_failure(&s);
	exit_delay_for_tests();
	bx_mux_free(&s.mux);
	bx_msgbuf_free(&s.main_in);
	bq_free(&s.main_out);
	bq_free(&s.pend);
	return 0;
}
