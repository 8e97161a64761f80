/* The end of a box, on every path: stop the VM and virtiofsd, keep the console
 * log of a failed boot, write exit_code, remove the runtime dir (and the box
 * with --rm), then tell the client. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/crashpoint.h"
#include "../common/paths.h"
#include "../image/rootfs.h"
#include "../store/state.h"
#include "shim.h"

#define DIAG_KEEP 20

/* How much of the console's end a failed boot's message and panic search
 * read: the file is capped (console.c), and even so only its tail is read. */
#define CONSOLE_TAIL_BYTES (64 * 1024)

/* The last `lines` lines of BOXDIR/console.log as one line ("a | b | c"),
 * control characters dropped. Returns 0 if there was anything. */
int shim_log_tail(const char *box_dir, const char *file, int lines, char *out, size_t size)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	out[0] = '\0';
	if (bx_path_join(path, sizeof(path), NULL, "%s/%s", box_dir, file) < 0 ||
	    bx_read_tail(path, CONSOLE_TAIL_BYTES, &text, &len, NULL) < 0)
		return -1;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	size_t start = len;
	for (int n = 0; start > 0; start--)
		if (text[start - 1] == '\n' && ++n == lines)
			break;
	size_t o = 0;
	for (size_t i = start; i < len && o + 4 < size; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c == '\n') {
			memcpy(out + o, " | ", 3);
			o += 3;
		} else if (c >= 0x20 && c != 0x7f) {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o ? 0 : -1;
}

struct diag_file {
	char name[256];
	time_t mtime;
};

static int by_mtime_desc(const void *a, const void *b)
{
	const struct diag_file *x = a, *y = b;
	return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : strcmp(y->name, x->name);
}

static void prune_diag(struct shim *s)
{
	DIR *d = opendir(s->spec.diag_dir);
	if (!d)
		return;
	struct diag_file *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name);
		struct stat st;
		if (l < 5 || l >= 256 || strcmp(e->d_name + l - 4, ".log") ||
		    fstatat(dirfd(d), e->d_name, &st, 0) < 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct diag_file *nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		snprintf(v[n].name, sizeof(v[n].name), "%s", e->d_name);
		v[n++].mtime = st.st_mtime;
	}
	if (v) {
		qsort(v, n, sizeof(*v), by_mtime_desc);
		for (size_t i = DIAG_KEEP; i < n; i++)
			unlinkat(dirfd(d), v[i].name, 0);
	}
	free(v);
	closedir(d);
}

/* Copy console.log (capped: at most BX_CONSOLE_CAP) and the autopsy (when
 * there is one) into DIAG_DIR/<id12>-<unix time>.log, mode 0600 in a 0700
 * directory: guest output is the box owner's alone. The path goes into out. */
int shim_keep_console(struct shim *s, const char *autopsy, char *out, size_t size)
{
	char src[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	size_t len = 0;
	struct bx_err err;
	out[0] = '\0';
	if (!s->spec.diag_dir[0] || bx_path_join(src, sizeof(src), NULL, "%s/console.log", s->spec.box_dir) < 0 ||
	    bx_read_tail(src, BX_CONSOLE_CAP, &text, &len, NULL) < 0)
		return -1;
	if (autopsy) {
		size_t alen = strlen(autopsy);
		char *joined = realloc(text, len + alen + 1);
		if (joined) {
			memcpy(joined + len, autopsy, alen + 1);
			text = joined;
			len += alen;
		}
	}
	if (bx_mkdir_p(s->spec.diag_dir, 0700, &err) < 0 ||
	    bx_path_join(out, size, &err, "%s/%.12s-%lld.log", s->spec.diag_dir, s->spec.id, (long long)time(NULL)) < 0 ||
	    bx_write_file_atomic(out, text, len, 0600, &err) < 0) {
		shim_log(s, true, "cannot keep the console log: %s", err.msg);
		out[0] = '\0';
		return -1;
	}
	prune_diag(s);
	return 0;
}

void shim_stop_children(struct shim *s)
{
	if (s->qemu_pid > 0 && !s->qemu_exited) {
		shim_kill_child(s->qemu_pid, SIGKILL);
		shim_wait_qemu(s, 5000);
	}
	shim_stop_aux(s); /* passt, each virtiofsd: their groups too (virtiofsd's sandbox child) */
	/* QEMU's group may still hold a straggler */
	shim_kill_child(s->qemu_pid, SIGKILL);
	shim_wait_group_gone(s, s->qemu_pid, bx_mono_ms() + 5000);
	shim_capture_finish(s, &s->console);
	shim_capture_finish(s, &s->qerr);
	shim_qemu_cgroup_remove(s);
}

/* The kernel's own verdict, when it panicked: the line that says why (the
 * register dump that follows it fills the last lines). */
static void panic_line(const char *box_dir, char *out, size_t size)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	out[0] = '\0';
	if (bx_path_join(path, sizeof(path), NULL, "%s/console.log", box_dir) < 0 ||
	    bx_read_tail(path, CONSOLE_TAIL_BYTES, &text, NULL, NULL) < 0)
		return;
	char *p = NULL, *q = text;
	while ((q = strstr(q, "Kernel panic - not syncing:")))
		p = q++;
	if (p)
		snprintf(out, size, "; %.*s", (int)strcspn(p, "\r\n"), p);
}

static const char *describe(enum end_reason r)
{
	switch (r) {
	case END_VM_GONE:
		return "the VM exited before its command finished";
	case END_BACKSTOP:
	case END_STALLED:
		return "the VM did not come up";
	case END_LINK:
		return "the host-guest link failed";
	default:
		return "the box failed";
	}
}

/* The teardown's waits (here and in shim_stop_children) run after the event
 * loop, in DONE, where the state machine (fsm.c) gives no event a meaning:
 * signals are left in the signalfd, since reading them would change nothing,
 * and the shim exits right after. The reaper's events still go through
 * shim_event (and are ignored there).
 *
 * A failure before any client attached still reaches the CLI, which attaches
 * right after "ok": wait briefly for it. */
static void linger_for_client(struct shim *s, int ms)
{
	long long end = bx_mono_ms() + ms;
	while (s->cli_fd < 0 || !s->cli_ready) {
		long long left = end - bx_mono_ms();
		if (left <= 0)
			return;
		struct pollfd p = {.fd = s->cli_fd >= 0 ? s->cli_fd : s->listen_fd, .events = POLLIN};
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		if (s->cli_fd >= 0)
			shim_client_readable(s);
		else
			shim_accept(s);
	}
}

static void flush_client(struct shim *s, int ms)
{
	long long end = bx_mono_ms() + ms;
	while (s->cli_fd >= 0 && bx_bytes_size(&s->cli_out)) {
		long long left = end - bx_mono_ms();
		if (left <= 0)
			return;
		struct pollfd p = {.fd = s->cli_fd, .events = POLLOUT};
		if (poll(&p, 1, (int)left) > 0)
			shim_client_writable(s);
	}
}

void shim_finish(struct shim *s)
{
	shim_stop_children(s);
	bool failed = s->end_reason != END_EXIT && s->end_reason != END_KILLED;
	char *text = s->fail_text; /* also what a `run -d` waiting for main is told */
	size_t text_size = sizeof(s->fail_text);
	text[0] = '\0';
	if (failed) {
		char diag[PATH_MAX], tail[1536], panic[256];
		shim_keep_console(s, s->autopsy, diag, sizeof(diag));
		free(s->autopsy);
		s->autopsy = NULL;
		if (shim_log_tail(s->spec.box_dir, "console.log", 10, tail, sizeof(tail)) < 0)
			snprintf(tail, sizeof(tail), "(the console log is empty)");
		panic_line(s->spec.box_dir, panic, sizeof(panic));
		snprintf(text, text_size, "box %.12s: %s%s%s%s; last boot log lines: %s%s%s%s", s->spec.id,
			 describe(s->end_reason), s->end_msg[0] ? ": " : "", s->end_msg, panic, tail, diag[0] ? " (full log: " : "",
			 diag, diag[0] ? ")" : "");
		shim_log(s, true, "%s", text);
		if (!s->ever_attached)
			linger_for_client(s, 5000);
	}
	shim_lc_oom_file(s, true); /* the count as the box ends */
	char path[PATH_MAX], code[16];
	struct bx_err err;
	int n = snprintf(code, sizeof(code), "%d\n", s->exit_code);
	if (bx_path_join(path, sizeof(path), &err, "%s/exit_code", s->spec.box_dir) < 0 ||
	    bx_write_file_atomic(path, code, (size_t)n, 0600, &err) < 0)
		shim_log(s, true, "%s", err.msg);
	if (s->listen_fd >= 0)
		close(s->listen_fd);
	s->listen_fd = -1;
	if (s->ctl_fd >= 0)
		close(s->ctl_fd);
	s->ctl_fd = -1;
	if (bx_rm_rf(s->spec.run_dir, &err) < 0)
		shim_log(s, true, "%s", err.msg);
	shim_log(s, false, "box ended with exit code %d", s->exit_code);
	bx_crash_point("shim.ending"); /* the VM is gone, the record still says it runs */
	shim_lc_finished(s); /* the record says "exited" only once the VM and the runtime dir are gone */
	if (s->spec.auto_remove) {
		/* shim.log stays open meanwhile: a removal that fails is told there
		 * (our stderr goes nowhere), and the record says "removing", so the
		 * next listing finishes the job (state_sweep.c) */
		if (bx_box_remove_dir(s->spec.box_dir, &err) < 0) /* unmounts the overlay rootfs first */
			shim_log(s, true, "--rm: the box directory is left for the next listing to remove: %s", err.msg);
		if (s->log_fd >= 0)
			close(s->log_fd);
		s->log_fd = -1;
		bx_store_op_end(s->lc.remove_op_fd);
		s->lc.remove_op_fd = -1;
		shim_lc_remove_anon_volumes(s);
		shim_netns_release(s);
	}
	if (failed)
		shim_client_send(s, BX_M_ERROR, text, (uint32_t)strlen(text));
	uint8_t le[4];
	bx_put_u32(le, (uint32_t)s->exit_code);
	shim_client_send(s, BX_M_EXIT, le, 4);
	flush_client(s, 2000);
}
