/* A boot that showed no sign of life: before QEMU is killed, what it and the
 * link say about where the boot stands, kept with the console log of the
 * failed boot (cleanup.c). A quiet guest kernel prints nothing while it
 * waits, so the console alone cannot tell a guest waiting for an interrupt
 * from a wedged QEMU or bytes that never left the host:
 *   - the link: bytes the shim wrote that QEMU has not read, bytes QEMU wrote
 *     that the shim has not read;
 *   - QEMU's threads and its helpers' (virtiofsd, passt): state and kernel
 *     wait channel;
 *   - the monitor: run state, each vCPU's RIP and halt flag, the TCG
 *     translation cache's flushes, the virtio-serial queues' indices;
 *   - interrupts: each virtio device's unacknowledged interrupt status, the
 *     IOAPIC's unmasked pins with their pending and in-service bits, each
 *     vCPU's local APIC (timer, ISR, IRR), the counts per IRQ;
 *   - the vhost-user (virtiofsd) rings as the guest's memory holds them:
 *     requests the guest made (avail) against those answered (used);
 *   - the link again, after a short wait: asking the monitor wakes QEMU's
 *     main loop, so a boot that was only waiting for that loop answers now.
 * Everything QEMU answers is steered by the guest: only bounded, parsed
 * fields are kept. */
#include <dirent.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <stdbool.h>
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
#define AUTOPSY_VHOST_QUEUES 4  /* virtiofs: hiprio and request queues */
#define AUTOPSY_CPUS_MAX 8
#define AUTOPSY_HMP_LINES 48

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

static void threads(FILE *f, pid_t pid, const char *what)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d) {
		fprintf(f, "%s threads: unknown\n", what);
		return;
	}
	fprintf(f, "%s threads (name state wchan):", what);
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
	struct bx_err err;
	json_t *ret = NULL;
	if (shim_qmp(s, cmd, args, &ret, AUTOPSY_QMP_MS, &err) < 0) {
		fprintf(f, "%s: %s\n", cmd, err.msg);
		return NULL;
	}
	return ret;
}

/* HMP text through QMP: the lines holding one of the needles and not
 * `unless` (NULL: none), at most AUTOPSY_HMP_LINES of them */
static void hmp_lines(struct shim *s, FILE *f, const char *command, const char *const *needles, const char *unless)
{
	char args[256];
	snprintf(args, sizeof(args), "{\"command-line\": \"%s\"}", command);
	json_t *ret = qmp(s, "human-monitor-command", args, f);
	const char *text = json_string_value(ret);
	int kept = 0;
	for (const char *line = text; line && *line && kept < AUTOPSY_HMP_LINES;) {
		size_t len = strcspn(line, "\r\n");
		bool skip = unless && memmem(line, len, unless, strlen(unless));
		for (const char *const *p = needles; *p && !skip; p++) {
			if (memmem(line, len, *p, strlen(*p))) {
				fprintf(f, "%s: %.*s\n", command, (int)(len > 200 ? 200 : len), line);
				kept++;
				break;
			}
		}
		line += len;
		line += strspn(line, "\r\n");
	}
	json_decref(ret);
}

/* A QOM path QEMU gave, fit to be quoted back into a JSON argument. */
static bool quotable(const char *path)
{
	return path && strlen(path) <= 200 && !strpbrk(path, "\"\\");
}

/* The 16-bit index at guest physical address gpa, read with HMP's xp;
 * -1 when QEMU did not answer with one. */
static long ring_index(struct shim *s, FILE *f, long long gpa)
{
	char args[128];
	snprintf(args, sizeof(args), "{\"command-line\": \"xp /1hx 0x%llx\"}", gpa);
	json_t *ret = qmp(s, "human-monitor-command", args, f);
	const char *text = json_string_value(ret);
	const char *colon = text ? strchr(text, ':') : NULL;
	char *end = NULL;
	long v = colon ? strtol(colon + 1, &end, 16) : -1;
	json_decref(ret);
	return end && end != colon + 1 && v >= 0 && v <= 0xffff ? v : -1;
}

/* a vhost-user device's rings: QEMU does not see them move, the guest's
 * memory does (avail idx and used idx sit 2 bytes into each ring) */
static void vhost_rings(struct shim *s, FILE *f, const char *name, const char *path, long long nvqs)
{
	for (long long q = 0; q < nvqs && q < AUTOPSY_VHOST_QUEUES; q++) {
		char args[320];
		snprintf(args, sizeof(args), "{\"path\": \"%s\", \"queue\": %lld}", path, q);
		json_t *st = qmp(s, "x-query-virtio-vhost-queue-status", args, f);
		if (!st)
			return;
		long long avail = json_integer_value(json_object_get(st, "avail-phys"));
		long long used = json_integer_value(json_object_get(st, "used-phys"));
		json_decref(st);
		if (!avail || !used)
			continue;
		fprintf(f, "%s %s queue %lld: guest made %ld, backend answered %ld\n", name, path, q,
			ring_index(s, f, avail + 2), ring_index(s, f, used + 2));
	}
}

/* every virtio device: the interrupt status its driver has not acknowledged
 * (bit 0: a used ring moved, bit 1: configuration), and vhost rings */
static void virtio_devices(struct shim *s, FILE *f, json_t *list)
{
	size_t i;
	json_t *dev;
	json_array_foreach(list, i, dev) {
		const char *name = json_string_value(json_object_get(dev, "name"));
		const char *path = json_string_value(json_object_get(dev, "path"));
		if (!name || strlen(name) > 40 || !quotable(path))
			continue;
		char args[256];
		snprintf(args, sizeof(args), "{\"path\": \"%s\"}", path);
		json_t *st = qmp(s, "x-query-virtio-status", args, f);
		if (!st)
			return;
		bool vhost = json_is_true(json_object_get(st, "vhost-started"));
		long long nvqs = json_integer_value(json_object_get(st, "num-vqs"));
		fprintf(f, "%s %s: isr 0x%llx%s\n", name, path, json_integer_value(json_object_get(st, "isr")),
			vhost ? ", vhost started" : "");
		json_decref(st);
		if (vhost)
			vhost_rings(s, f, name, path, nvqs);
	}
}

static void serial_queues(struct shim *s, FILE *f, json_t *list)
{
	const char *path = NULL;
	size_t i;
	json_t *dev;
	json_array_foreach(list, i, dev) {
		const char *name = json_string_value(json_object_get(dev, "name"));
		if (name && !strcmp(name, "virtio-serial"))
			path = json_string_value(json_object_get(dev, "path"));
	}
	if (!quotable(path)) {
		fprintf(f, "virtio-serial: not found\n");
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
}

char *shim_boot_autopsy(struct shim *s, const char *ender)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	if (!f)
		return NULL;
	fprintf(f, "--- boxvm: where the boot stood when %s ended it\n", ender);
	link_queues(f, s->ctl_fd, "before");
	threads(f, s->qemu_pid, "QEMU");
	for (int i = 0; i < s->naux; i++)
		if (!s->aux[i].exited)
			threads(f, s->aux[i].pid, s->aux[i].what);
	json_t *st = qmp(s, "query-status", NULL, f);
	if (st)
		fprintf(f, "run state: %.40s\n", json_string_value(json_object_get(st, "status")) ?: "?");
	json_decref(st);
	hmp_lines(s, f, "info registers -a", (const char *const[]){"CPU#", "RIP=", NULL}, NULL);
	hmp_lines(s, f, "info jit", (const char *const[]){"TB flush count", "TB count", NULL}, NULL);
	json_t *devices = qmp(s, "x-query-virtio", NULL, f);
	serial_queues(s, f, devices);
	virtio_devices(s, f, devices);
	json_decref(devices);
	hmp_lines(s, f, "info pic", (const char *const[]){"pic", "pin", "IRR", NULL}, "masked");
	for (int cpu = 0; cpu < s->spec.cpus && cpu < AUTOPSY_CPUS_MAX; cpu++) {
		char cmd[32];
		snprintf(cmd, sizeof(cmd), "info lapic %d", cpu);
		hmp_lines(s, f, cmd, (const char *const[]){"LVTT", "Timer", "ISR", "IRR", "PPR", NULL}, NULL);
	}
	hmp_lines(s, f, "info irq", (const char *const[]){":", NULL}, NULL);
	/* again, the questions above later: a vCPU whose RIP moved runs (a loop),
	 * one whose RIP stayed is stuck there */
	hmp_lines(s, f, "info registers -a", (const char *const[]){"CPU#", "RIP=", NULL}, NULL);
	struct pollfd p = {.fd = s->ctl_fd, .events = POLLIN};
	if (s->ctl_fd >= 0)
		poll(&p, 1, 2000);
	link_queues(f, s->ctl_fd, "2 s after the monitor's questions");
	fclose(f);
	return buf;
}
