/* Guest kernel discovery, module dependency order and the kernel command line.
 * The initramfs itself is built in kernel_initramfs.c. */
#include "kernel.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"

/* What the agent needs before it can mount the root: the virtio-mmio transport,
 * the virtio-serial port (the host channel) and virtiofs (the root). Their
 * dependencies (virtio, virtio_ring, fuse, ...) come from modules.dep. */
/* virtio_net: the box NIC (its deps net_failover, failover come from modules.dep);
 * virtio_balloon: free page reporting, guest memory freed goes back to the host;
 * overlay: a read-only root gets a guest-memory upper for its mount points
 * and /etc files (agent mounts.c) */
const char *const bx_guest_modules[] = {"virtio_mmio", "virtio_console", "virtiofs", "virtio_net", "virtio_balloon",
					 "overlay", NULL};

/* ---- modules.dep ---- */

struct dep_entry {
	char *path;  /* "kernel/x/a.ko" */
	char *deps;  /* the text after ':' (space separated), may be empty */
	char name[64];
	int state;   /* 0 new, 1 on the DFS stack, 2 emitted */
};

/* "kernel/fs/fuse/virtio-fs.ko.xz" -> "virtio_fs": module names treat - and _ alike. */
static void module_name(const char *path, char *out, size_t size)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strcspn(b, ".");
	if (n >= size)
		n = size - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = b[i] == '-' ? '_' : b[i];
	out[n] = '\0';
}

static struct dep_entry *find_path(struct dep_entry *e, size_t n, const char *path, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(e[i].path) == len && !memcmp(e[i].path, path, len))
			return &e[i];
	return NULL;
}

struct order_out {
	char **v;
	size_t n, cap;
};

static int visit(struct dep_entry *all, size_t nall, struct dep_entry *e, struct order_out *o, int depth,
		 struct bx_err *err)
{
	if (e->state == 2)
		return 0;
	if (e->state == 1 || depth > 64)
		return bx_fail(err, ELOOP, "modules.dep: dependency cycle through %s", e->path);
	e->state = 1;
	/* modprobe loads a module's listed dependencies last-to-first; recurse on
	 * each one's own entry so the order holds even if a list is incomplete. */
	const char *toks[128];
	size_t lens[128], nt = 0;
	for (const char *s = e->deps; *s;) {
		s += strspn(s, " \t");
		size_t l = strcspn(s, " \t");
		if (!l)
			break;
		if (nt == 128)
			return bx_fail(err, E2BIG, "modules.dep: %s has too many dependencies", e->path);
		toks[nt] = s;
		lens[nt++] = l;
		s += l;
	}
	for (size_t i = nt; i-- > 0;) {
		struct dep_entry *d = find_path(all, nall, toks[i], lens[i]);
		if (!d)
			return bx_fail(err, ENOENT, "modules.dep: %.*s (needed by %s) has no entry of its own",
				       (int)lens[i], toks[i], e->path);
		if (visit(all, nall, d, o, depth + 1, err) < 0)
			return -1;
	}
	if (o->n + 2 > o->cap) {
		size_t cap = o->cap ? o->cap * 2 : 16;
		char **nv = realloc(o->v, cap * sizeof(*nv));
		if (!nv)
			return bx_fail(err, ENOMEM, "out of memory");
		o->v = nv;
		o->cap = cap;
	}
	if (!(o->v[o->n] = strdup(e->path)))
		return bx_fail(err, ENOMEM, "out of memory");
	o->v[++o->n] = NULL;
	e->state = 2;
	return 0;
}

void bx_modules_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

int bx_modules_dep_order(const char *modules_dep, const char *const *wanted, char ***ordered, size_t *n,
			 struct bx_err *err)
{
	_cleanup_free_ char *text = strdup(modules_dep);
	_cleanup_free_ struct dep_entry *all = NULL;
	size_t nall = 0, cap = 0;
	if (!text)
		return bx_fail(err, ENOMEM, "out of memory");
	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		char *colon = strchr(line, ':');
		if (!colon)
			continue; /* blank or malformed line: nothing to resolve from it */
		*colon = '\0';
		if (nall == cap) {
			cap = cap ? cap * 2 : 256;
			struct dep_entry *na = realloc(all, cap * sizeof(*na));
			if (!na)
				return bx_fail(err, ENOMEM, "out of memory");
			all = na;
		}
		struct dep_entry *e = &all[nall++];
		e->path = line;
		e->deps = colon + 1;
		e->state = 0;
		module_name(line, e->name, sizeof(e->name));
	}
	struct order_out o = {0};
	for (const char *const *w = wanted; *w; w++) {
		char want[64];
		snprintf(want, sizeof(want), "%s", *w);
		for (char *c = want; *c; c++)
			if (*c == '-')
				*c = '_';
		struct dep_entry *e = NULL;
		for (size_t i = 0; i < nall && !e; i++)
			if (!strcmp(all[i].name, want))
				e = &all[i];
		if (!e) {
			bx_modules_free(o.v, o.n);
			return bx_fail(err, ENOENT, "kernel module %s not found in modules.dep", *w);
		}
		if (visit(all, nall, e, &o, 0, err) < 0) {
			bx_modules_free(o.v, o.n);
			return -1;
		}
	}
	*ordered = o.v;
	*n = o.n;
	return 0;
}

/* ---- kernel discovery ---- */

unsigned bx_config_hz(const char *t)
{
	for (const char *s = t; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (!strncmp(s, "CONFIG_HZ=", 10))
			return (unsigned)strtoul(s + 10, NULL, 10);
	return 0;
}

bool bx_config_modular(const char *t)
{
	for (const char *s = t; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
		if (!strncmp(s, "CONFIG_MODULES=y", 16) && (s[16] == '\n' || s[16] == '\0'))
			return true;
	return false;
}

unsigned bx_cpuinfo_khz(const char *t)
{
	for (const char *s = t; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
		if (strncmp(s, "cpu MHz", 7))
			continue;
		const char *c = strchr(s, ':');
		const char *eol = strchr(s, '\n');
		if (!c || (eol && c > eol))
			return 0;
		double mhz = strtod(c + 1, NULL);
		return mhz > 0 && mhz < 1e6 ? (unsigned)(mhz * 1000.0 + 0.5) : 0;
	}
	return 0;
}

static bool is_file(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

int bx_kernel_find(const struct bx_paths *p, struct bx_kernel *k, struct bx_err *err)
{
	DIR *d = opendir(p->kernel);
	char best[128] = "";
	if (d) {
		struct dirent *e;
		while ((e = readdir(d))) {
			char probe[PATH_MAX];
			if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof(best))
				continue;
			if (bx_path_join(probe, sizeof(probe), NULL, "%s/%s/.complete", p->kernel, e->d_name) < 0 ||
			    !is_file(probe))
				continue;
			if (bx_path_join(probe, sizeof(probe), NULL, "%s/%s/boot/vmlinuz-%s", p->kernel, e->d_name,
					 e->d_name) < 0 ||
			    !is_file(probe))
				continue;
			if (!best[0] || strverscmp(e->d_name, best) > 0)
				snprintf(best, sizeof(best), "%s", e->d_name);
		}
		closedir(d);
	}
	bool tailored = !strcmp(p->kernel_kind, BX_KERNEL_TAILORED);
	if (!best[0])
		return tailored ? bx_fail(err, 0, "tailored guest kernel not built: run 'boxvm kernel build'")
				: bx_fail(err, 0, "guest kernel not prepared: run 'boxvm kernel prepare'");
	memset(k, 0, sizeof(*k));
	snprintf(k->version, sizeof(k->version), "%s", best);
	snprintf(k->kind, sizeof(k->kind), "%s", p->kernel_kind);
	if (bx_path_join(k->vmlinuz, sizeof(k->vmlinuz), err, "%s/%s/boot/vmlinuz-%s", p->kernel, best, best) < 0 ||
	    bx_path_join(k->moddir, sizeof(k->moddir), err, "%s/%s/lib/modules/%s", p->kernel, best, best) < 0)
		return -1;
	char cfg[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	k->hz = 0;
	if (bx_path_join(cfg, sizeof(cfg), NULL, "%s/%s/boot/config-%s", p->kernel, best, best) == 0 &&
	    bx_read_file(cfg, &text, NULL, NULL) == 0) {
		k->hz = bx_config_hz(text);
		/* a kernel without a config is Debian's layout: modular */
		k->builtin = !bx_config_modular(text);
	}
	if (!k->hz)
		k->hz = 250;
	_cleanup_free_ char *cpuinfo = NULL;
	if (bx_read_file("/proc/cpuinfo", &cpuinfo, NULL, NULL) == 0)
		k->tsc_khz_hint = bx_cpuinfo_khz(cpuinfo);
	return 0;
}

int bx_kernel_cmdline(const struct bx_kernel *k, const char *accel, bool debug, char *buf, size_t size,
		      struct bx_err *err)
{
	size_t off = 0;
	int n = snprintf(buf, size, "console=ttyS0 panic=-1 reboot=t quiet");
	if (n < 0 || (size_t)n >= size)
		return bx_fail(err, ENAMETOOLONG, "kernel command line too long");
	off = (size_t)n;
	/* Under TCG the early TSC calibration against the (emulated) PIT never
	 * converges on these hosts and boot hangs; telling the kernel the
	 * frequency skips it. KVM guests get it from the hypervisor. With no
	 * HPET or PM timer in microvm to check the TSC against, the kernel would
	 * then keep time with jiffies (4 ms steps, no high-resolution timers):
	 * TCG's TSC is QEMU's one virtual clock, so it is declared reliable. */
	if (accel && !strcmp(accel, "tcg") && k->tsc_khz_hint) {
		unsigned hz = k->hz ? k->hz : 250;
		n = snprintf(buf + off, size - off, " tsc_early_khz=%u lpj=%llu tsc=reliable", k->tsc_khz_hint,
			     (unsigned long long)k->tsc_khz_hint * 1000ull / hz);
		if (n < 0 || (size_t)n >= size - off)
			return bx_fail(err, ENAMETOOLONG, "kernel command line too long");
		off += (size_t)n;
	}
	if (debug) {
		n = snprintf(buf + off, size - off, " boxvm.debug=1");
		if (n < 0 || (size_t)n >= size - off)
			return bx_fail(err, ENAMETOOLONG, "kernel command line too long");
	}
	return 0;
}
