/* The box's VM spec (vm.json), accelerator detection and the QEMU command line. */
#include "../proto/msg.h"
#include "vmspec.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "cgroup.h"

/* ---- vm.json ---- */

#define STR_FIELDS(X)                                                                                               \
	X(id) X(box_dir) X(run_dir) X(rootfs) X(kernel) X(initrd) X(cmdline) X(accel) X(diag_dir) X(libexec)

int bx_vmspec_write(const char *path, const struct bx_vmspec *s, struct bx_err *err)
{
	_cleanup_json_ json_t *o = json_object();
	if (!o)
		return bx_fail(err, ENOMEM, "out of memory");
#define PUT(f) json_object_set_new(o, #f, json_string(s->f));
	STR_FIELDS(PUT)
#undef PUT
	json_object_set_new(o, "mem_mb", json_integer(s->mem_mb));
	json_object_set_new(o, "cpus", json_integer(s->cpus));
	json_object_set_new(o, "nano_cpus", json_integer(s->nano_cpus));
	json_object_set_new(o, "cpu_shares", json_integer(s->cpu_shares));
	json_object_set_new(o, "cpuset_cpus", json_string(s->cpuset_cpus));
	json_object_set_new(o, "auto_remove", json_boolean(s->auto_remove));
	json_object_set_new(o, "tty", json_boolean(s->tty));
	json_object_set_new(o, "rootfs_host_edits", json_boolean(s->rootfs_host_edits));
	json_object_set_new(o, "boot_timeout_s", json_integer(s->boot_timeout_s));
	json_object_set_new(o, "hold_main", json_boolean(s->hold_main));
	if (bx_vmspec_box_to_json(o, s) < 0)
		return bx_fail(err, ENOMEM, "cannot encode %s", path);
	_cleanup_free_ char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		return bx_fail(err, ENOMEM, "cannot encode %s", path);
	return bx_write_file_atomic(path, text, strlen(text), 0600, err);
}

static int get_str(json_t *o, const char *key, char *dst, size_t size, bool required, const char *path,
		   struct bx_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		dst[0] = '\0';
		return required ? bx_fail(err, 0, "%s: missing \"%s\"", path, key) : 0;
	}
	if (!json_is_string(v))
		return bx_fail(err, 0, "%s: \"%s\" is not a string", path, key);
	if (snprintf(dst, size, "%s", json_string_value(v)) >= (int)size)
		return bx_fail(err, 0, "%s: \"%s\" is too long", path, key);
	return 0;
}

static int get_int(json_t *o, const char *key, int *dst, int def, const char *path, struct bx_err *err)
{
	json_t *v = json_object_get(o, key);
	if (!v) {
		*dst = def;
		return 0;
	}
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 1 << 30)
		return bx_fail(err, 0, "%s: \"%s\" is not a valid number", path, key);
	*dst = (int)json_integer_value(v);
	return 0;
}

int bx_vmspec_pause_guard_ms(const char *box_dir)
{
	char path[PATH_MAX];
	_cleanup_free_ struct bx_vmspec *vm = calloc(1, sizeof(*vm)); /* large */
	int s = 300;
	if (vm && bx_path_join(path, sizeof(path), NULL, "%s/vm.json", box_dir) == 0 &&
	    bx_vmspec_read(path, vm, NULL) == 0 && vm->boot_timeout_s > 0)
		s = vm->boot_timeout_s;
	return (s + 60) * 1000;
}

const char *bx_vmspec_rootfs_cache(const struct bx_vmspec *s)
{
	return s->rootfs_host_edits ? "cache=auto" : "cache=always";
}

void bx_pause_error_clear(const char *box_dir)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/pause.err", box_dir) == 0)
		unlink(path);
}

int bx_pause_error_write(const char *box_dir, const char *msg)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/pause.err", box_dir) < 0)
		return -1;
	return bx_write_file_atomic(path, msg, strlen(msg), 0600, NULL);
}

int bx_pause_error_take(const char *box_dir, char *msg, size_t size)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	if (bx_path_join(path, sizeof(path), NULL, "%s/pause.err", box_dir) < 0 || bx_read_file(path, &text, NULL, NULL) < 0)
		return 0;
	unlink(path);
	snprintf(msg, size, "%.*s", (int)strcspn(text, "\n"), text);
	return 1;
}

int bx_vmspec_read(const char *path, struct bx_vmspec *s, struct bx_err *err)
{
	json_error_t je;
	_cleanup_json_ json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return bx_fail(err, 0, "cannot read VM spec %s: %s (line %d)", path, je.text, je.line);
	memset(s, 0, sizeof(*s));
	if (!json_is_object(o))
		return bx_fail(err, 0, "%s: not a JSON object", path);
	static const char *const optional[] = {"diag_dir", "libexec", NULL};
#define GET(f)                                                                                                      \
	{                                                                                                           \
		bool req = true;                                                                                    \
		for (const char *const *q = optional; *q; q++)                                                      \
			if (!strcmp(*q, #f))                                                                        \
				req = false;                                                                        \
		if (get_str(o, #f, s->f, sizeof(s->f), req, path, err) < 0)                                         \
			return -1;                                                                                  \
	}
	STR_FIELDS(GET)
#undef GET
	if (get_int(o, "mem_mb", &s->mem_mb, 256, path, err) < 0 || get_int(o, "cpus", &s->cpus, 1, path, err) < 0 ||
	    get_int(o, "boot_timeout_s", &s->boot_timeout_s, 300, path, err) < 0)
		return -1;
	s->nano_cpus = json_integer_value(json_object_get(o, "nano_cpus"));
	s->cpu_shares = json_integer_value(json_object_get(o, "cpu_shares"));
	if (get_str(o, "cpuset_cpus", s->cpuset_cpus, sizeof(s->cpuset_cpus), false, path, err) < 0)
		return -1;
	if (s->nano_cpus < 0 || s->cpu_shares < 0)
		return bx_fail(err, 0, "%s: nano_cpus and cpu_shares must be >= 0", path);
	json_t *ar = json_object_get(o, "auto_remove");
	s->auto_remove = ar && json_is_true(ar);
	if (bx_vmspec_box_from_json(o, s, path, err) < 0)
		return -1;
	json_t *tty = json_object_get(o, "tty");
	s->tty = tty && json_is_true(tty);
	s->rootfs_host_edits = json_is_true(json_object_get(o, "rootfs_host_edits"));
	s->hold_main = json_is_true(json_object_get(o, "hold_main"));
	if (strcmp(s->accel, "kvm") && strcmp(s->accel, "tcg"))
		return bx_fail(err, 0, "%s: accel must be \"kvm\" or \"tcg\", not \"%s\"", path, s->accel);
	if (s->mem_mb < 64 || s->cpus < 1)
		return bx_fail(err, 0, "%s: mem_mb must be >= 64 and cpus >= 1", path);
	return 0;
}

/* ---- accelerator ---- */

static bool cpu_has_virt(void)
{
	_cleanup_free_ char *info = NULL;
	if (bx_read_file("/proc/cpuinfo", &info, NULL, NULL) < 0)
		return false;
	for (char *line = info; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (strncmp(line, "flags", 5))
			continue;
		char *eol = strchr(line, '\n');
		if (eol)
			*eol = '\0';
		bool found = false;
		for (char *tok = strtok(line, " \t"); tok && !found; tok = strtok(NULL, " \t"))
			found = !strcmp(tok, "vmx") || !strcmp(tok, "svm");
		return found; /* the first CPU's flags speak for all */
	}
	return false;
}

int bx_accel_detect(char accel[8], char *why, size_t why_size, struct bx_err *err)
{
	const char *env = getenv("BOXVM_ACCEL");
	if (env && *env) {
		if (strcmp(env, "kvm") && strcmp(env, "tcg"))
			return bx_fail(err, 0, "BOXVM_ACCEL must be kvm or tcg, not '%s'", env);
		snprintf(accel, 8, "%s", env);
		snprintf(why, why_size, "%s: set by BOXVM_ACCEL", env);
		return 0;
	}
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int e = errno;
	if (fd >= 0)
		close(fd);
	bool virt = cpu_has_virt();
	if (fd >= 0 && virt) {
		snprintf(accel, 8, "kvm");
		snprintf(why, why_size, "kvm: /dev/kvm is usable and the CPU has hardware virtualization");
	} else {
		snprintf(accel, 8, "tcg");
		if (fd < 0)
			snprintf(why, why_size, "tcg: /dev/kvm cannot be opened read-write (%s)", strerror(e));
		else
			snprintf(why, why_size,
				 "tcg: /dev/kvm is present but the CPU shows no vmx/svm (hardware virtualization "
				 "unavailable)");
	}
	return 0;
}

/* ---- QEMU argv ---- */

struct strv {
	char **v;
	size_t n, cap;
	bool oom;
};

static void push(struct strv *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void push(struct strv *a, const char *fmt, ...)
{
	if (a->oom)
		return;
	if (a->n + 2 > a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 64;
		char **nv = realloc(a->v, cap * sizeof(*nv));
		if (!nv) {
			a->oom = true;
			return;
		}
		a->v = nv;
		a->cap = cap;
	}
	va_list ap;
	va_start(ap, fmt);
	int r = vasprintf(&a->v[a->n], fmt, ap);
	va_end(ap);
	if (r < 0) {
		a->v[a->n] = NULL;
		a->oom = true;
		return;
	}
	a->v[++a->n] = NULL;
}

int bx_qemu_argv(const struct bx_vmspec *s, const struct bx_qemu_fds *fds, char ***argv, struct bx_err *err)
{
	bool kvm = !strcmp(s->accel, "kvm");
	struct strv a = {0};
	push(&a, "qemu-system-x86_64");
	/* microvm: no PCI, no firmware option ROMs, no RTC (the guest gets time
	 * from the host clock via kvmclock/TSC); the ISA serial is the console. */
	push(&a, "-machine");
	push(&a, "microvm,x-option-roms=off,isa-serial=on,rtc=off,memory-backend=mem");
	/* virtiofsd refuses legacy virtio-mmio devices */
	push(&a, "-global");
	push(&a, "virtio-mmio.force-legacy=false");
	push(&a, "-accel");
	/* TCG's translation cache is bounded (default: up to 1 GiB on a big host)
	 * so that the box's memory ceiling (cgroup.h) can count it */
	if (kvm)
		push(&a, "kvm");
	else
		push(&a, "tcg,thread=multi,tb-size=%d", BX_TCG_TB_MB);
	push(&a, "-cpu");
	push(&a, kvm ? "host" : "max");
	push(&a, "-m");
	push(&a, "%d", s->mem_mb);
	push(&a, "-smp");
	push(&a, "%d", s->cpus);
	push(&a, "-nodefaults");
	push(&a, "-no-user-config");
	push(&a, "-nographic");
	push(&a, "-sandbox");
	push(&a, BX_QEMU_SANDBOX);
	/* the console is a socket the shim drains into a capped BOXDIR/console.log */
	push(&a, "-chardev");
	push(&a, "socket,id=con,fd=%d", fds->console);
	push(&a, "-serial");
	push(&a, "chardev:con");
	/* vhost-user (virtiofsd) maps guest RAM, so it must be a shareable memfd */
	push(&a, "-object");
	push(&a, "memory-backend-memfd,id=mem,size=%dM,share=on", s->mem_mb);
	/* vhost-user sockets the shim connected to virtiofsd: QEMU needs no access to RUN */
	push(&a, "-chardev");
	push(&a, "socket,id=vfs,fd=%d", fds->vfs);
	push(&a, "-device");
	push(&a, "vhost-user-fs-device,chardev=vfs,tag=rootfs");
	/* bind mounts and volumes: one virtiofsd (and vhost-user device) per share */
	for (int i = 0; i < s->nshares; i++) {
		push(&a, "-chardev");
		push(&a, "socket,id=vfs-%s,fd=%d", s->shares[i].tag, fds->shares[i]);
		push(&a, "-device");
		push(&a, "vhost-user-fs-device,chardev=vfs-%s,tag=%s", s->shares[i].tag, s->shares[i].tag);
	}
	/* the box's NIC, backed by its passt process (the shim starts it first)
	 * over a connected socketpair (passt --fd, aux.c) */
	if (s->network) {
		push(&a, "-netdev");
		push(&a, "stream,id=net0,server=off,addr.type=fd,addr.str=%d", fds->net);
		push(&a, "-device");
		push(&a, "virtio-net-device,netdev=net0");
	}
	/* one NIC per named network: a tap the shim opened on the network's
	 * bridge (src/shim/netns.c); the MAC is how the agent finds it */
	for (int i = 0; i < s->nnets; i++) {
		push(&a, "-netdev");
		push(&a, "tap,id=tap%d,fd=%d,vhost=off", i, fds->taps[i]);
		push(&a, "-device");
		push(&a, "virtio-net-device,netdev=tap%d,mac=%s", i, s->nets[i].mac);
	}
	/* spare NICs, down until a `network connect` of the running box */
	for (int i = 0; i < s->nspares; i++) {
		push(&a, "-netdev");
		push(&a, "tap,id=spare%d,fd=%d,vhost=off", i, fds->spares[i]);
		push(&a, "-device");
		push(&a, "virtio-net-device,netdev=spare%d,mac=" BX_SPARE_MAC_FMT, i, i);
	}
	/* free page reporting only (the balloon is never inflated): memory the
	 * guest frees goes back to the host within seconds, so a box that once
	 * peaked does not keep its peak resident (bench/lifecycle measures it) */
	push(&a, "-device");
	push(&a, "virtio-balloon-device,free-page-reporting=on");
	push(&a, "-device");
	push(&a, "virtio-serial-device");
	/* one end of a socketpair; the shim holds the other */
	push(&a, "-chardev");
	push(&a, "socket,id=ctl,fd=%d", fds->ctl);
	push(&a, "-device");
	push(&a, "virtserialport,chardev=ctl,name=boxvm.ctl");
	/* QMP for the shim alone (pause/unpause: stop/cont of the whole VM): the
	 * shim binds RUN/qmp.sock and hands QEMU the listening socket */
	push(&a, "-chardev");
	push(&a, "socket,id=qmp,fd=%d,server=on,wait=off", fds->qmp);
	push(&a, "-mon");
	push(&a, "chardev=qmp,mode=control");
	/* QEMU reads the boot files once, by name: the names of fds it holds */
	push(&a, "-kernel");
	push(&a, "/proc/self/fd/%d", fds->kernel);
	push(&a, "-initrd");
	push(&a, "/proc/self/fd/%d", fds->initrd);
	push(&a, "-append");
	if (s->nspares) /* so the agent leaves them down (agent_net_up) */
		push(&a, "%s boxvm.spares=%d", s->cmdline, s->nspares);
	else
		push(&a, "%s", s->cmdline);
	/* a guest reboot (panic=-1, reboot=t) ends QEMU instead of rebooting */
	push(&a, "-no-reboot");
	if (a.oom) {
		bx_strv_free(a.v);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	*argv = a.v;
	return 0;
}

/* bx_strv_free (declared in vmspec.h and image.h) is defined once, in image_ref.c. */
