/* A boot that showed no sign of life: before QEMU is killed, what it and the
 * link say about where the boot stands, kept with the console log of the
 * failed boot (cleanup.c). A quiet guest kernel prints nothing while it
 * waits, so the console alone cannot tell a guest waiting for an interrupt
 * from a wedged QEMU or bytes that never left the host:
 *   - the link: bytes the shim wrote that QEMU has not read, bytes QEMU wrote
 *     that the shim has not read;
 *   - QEMU's threads: state and kernel wait channel;
 *   - the monitor: run state, each vCPU's RIP and halt flag, the TCG
 *     translation cache's flushes, the virtio-serial queues' indices;
 *   - the link again, after a short wait: asking the monitor wakes QEMU's
 *     main loop, so a boot that was only waiting for that loop answers now.
 * Everything QEMU answers is steered by the guest: only bounded, parsed
 * fields are kept. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <jansson.h>

#include "../common/paths.h"
#include "../vm/qmp.h"
#include "shim.h"

#define AUTOPSY_QMP_MS 3000
#define AUTOPSY_THREADS_MAX 24
#define AUTOPSY_SERIAL_QUEUES 6 /* port 0 in/out, control in/out, port 1 (boxvm.ctl) in/out */

static void link_queues(FILE *f, int fd, const char *when)
{
	int out = -1, in = -1;
	if (fd < 0 || ioctl(fd, SIOCOUTQ, &out) < 0 || ioctl(fd, SIOCINQ, &in) < 0) {
		fprintf(f, "link %s: unknown\n", when);
		return;
	}
	fprintf(f, "link %s: %d bytes not yet read by QEMU, %d bytes from QEMU not yet read by the shim\n", when, out, in);
}

static void read_small(int dir, const char *name, char *buf, size_t size)
{
	buf[0] = '\0';
	int fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

static void qemu_threads(FILE *f, pid_t pid)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		fprintf(f, "QEMU threads: unknown\n");
		return;
	}
	fprintf(f, "QEMU threads (name state wchan):");
	struct dirent *e;
	int n = 0;
	while ((e = readdir(d)) && n < AUTOPSY_THREADS_MAX) {
		if (e->d_name[0] == '.')
			continue;
		int tdir = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (tdir < 0)
			continue;
		char comm[64], stat[512], wchan[64];
		read_small(tdir, "comm", comm, sizeof(comm));
		read_small(tdir, "stat", stat, sizeof(stat));
		read_small(tdir, "wchan", wchan, sizeof(wchan));
		close(tdir);
		const char *rp = strrchr(stat, ')');
		fprintf(f, " [%s %c %s]", comm, rp && rp[1] == ' ' ? rp[2] : '?', wchan[0] ? wchan : "-");
		n++;
	}
	closedir(d);
	fprintf(f, "\n");
}

static json_t *qmp(struct shim *s, const char *cmd, const char *args, FILE *f)
{
	char sock[PATH_MAX];
	struct bx_err err;
	json_t *ret = NULL;
	if (bx_path_join(sock, sizeof(sock), &err, "%s/qmp.sock", s->spec.run_dir) < 0 ||
	    bx_qmp_call(sock, cmd, args, &ret, AUTOPSY_QMP_MS, &err) < 0) {
		fprintf(f, "%s: %s\n", cmd, err.msg);
		return NULL;
	}
	return ret;
}

/* HMP text through QMP; only lines that start with one of the prefixes */
static void hmp_lines(struct shim *s, FILE *f, const char *command, const char *const *prefixes)
{
	char args[256];
	snprintf(args, sizeof(args), "{\"command-line\": \"%s\"}", command);
	json_t *ret = qmp(s, "human-monitor-command", args, f);
	const char *text = json_string_value(ret);
	for (const char *line = text; line && *line;) {
		size_t len = strcspn(line, "\r\n");
		for (const char *const *p = prefixes; *p; p++) {
			const char *at = strstr(line, *p);
			if (at && at < line + len) {
				fprintf(f, "%s: %.*s\n", command, (int)(len > 200 ? 200 : len), line);
				break;
			}
		}
		line += len;
		line += strspn(line, "\r\n");
	}
	json_decref(ret);
}

static void serial_queues(struct shim *s, FILE *f)
{
	json_t *list = qmp(s, "x-query-virtio", NULL, f);
	const char *path = NULL;
	size_t i;
	json_t *dev;
	json_array_foreach(list, i, dev) {
		const char *name = json_string_value(json_object_get(dev, "name"));
		if (name && !strcmp(name, "virtio-serial"))
			path = json_string_value(json_object_get(dev, "path"));
	}
	if (!path || strlen(path) > 200 || strpbrk(path, "\"\\")) {
		fprintf(f, "virtio-serial: not found\n");
		json_decref(list);
		return;
	}
	for (int q = 0; q < AUTOPSY_SERIAL_QUEUES; q++) {
		char args[320];
		snprintf(args, sizeof(args), "{\"path\": \"%s\", \"queue\": %d}", path, q);
		json_t *st = qmp(s, "x-query-virtio-queue-status", args, f);
		if (!st)
			break;
		fprintf(f, "virtio-serial queue %d: avail %lld (shadow %lld), used %lld, signalled %lld%s, inuse %lld\n", q,
			json_integer_value(json_object_get(st, "last-avail-idx")),
			json_integer_value(json_object_get(st, "shadow-avail-idx")),
			json_integer_value(json_object_get(st, "used-idx")),
			json_integer_value(json_object_get(st, "signalled-used")),
			json_is_true(json_object_get(st, "signalled-used-valid")) ? "" : " (not valid)",
			json_integer_value(json_object_get(st, "inuse")));
		json_decref(st);
	}
	json_decref(list);
}

char *shim_boot_autopsy(struct shim *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "--- boxvm: where the boot stood when the backstop ended it\n");
	link_queues(f, s->ctl_fd, "before");
	qemu_threads(f, s->qemu_pid);
	json_t *st = qmp(s, "query-status", NULL, f);
	if (st)
		fprintf(f, "run state: %.40s\n", json_string_value(json_object_get(st, "status")) ?: "?");
	json_decref(st);
	hmp_lines(s, f, "info registers -a", (const char *const[]){"CPU#", "RIP=", NULL});
	hmp_lines(s, f, "info jit", (const char *const[]){"TB flush count", "TB count", NULL});
	serial_queues(s, f);
	struct pollfd p = {.fd = s->ctl_fd, .events = POLLIN};
	if (s->ctl_fd >= 0)
		poll(&p, 1, 2000);
	link_queues(f, s->ctl_fd, "2 s after the monitor's questions");
	fclose(f);
	return buf;
}
