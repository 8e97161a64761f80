/* The host cgroup of a box's VM (cgroup.h). */
#include "cgroup.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "../common/pidwait.h"

#define V2_ROOT "/sys/fs/cgroup"

/* cgroup v1: each controller's hierarchy and a file that proves it is mounted there */
static const struct {
	unsigned ctl;
	const char *root, *probe, *name;
} v1[BX_CG_DIRS] = {
	{BX_CG_MEMORY, "/sys/fs/cgroup/memory", "memory.limit_in_bytes", "memory"},
	{BX_CG_CPU, "/sys/fs/cgroup/cpu", "cpu.cfs_quota_us", "cpu"},
	{BX_CG_CPUSET, "/sys/fs/cgroup/cpuset", "cpuset.cpus", "cpuset"},
};
/* cgroup v2: the controller's name and a file of it in a child that has it */
static const struct {
	unsigned ctl;
	const char *name, *file;
} v2[BX_CG_DIRS] = {
	{BX_CG_MEMORY, "memory", "memory.max"},
	{BX_CG_CPU, "cpu", "cpu.max"},
	{BX_CG_CPUSET, "cpuset", "cpuset.cpus"},
};

uint64_t bx_qemu_memory_ceiling(int mem_mb, int tcg)
{
	uint64_t mb = (uint64_t)(mem_mb > 0 ? mem_mb : 0) + BX_QEMU_OVERHEAD_MB + (tcg ? BX_TCG_TB_MB : 0);
	return mb * 1024 * 1024;
}

static int write_text(const char *dir, const char *file, const char *text, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/%s", dir, file) < 0)
		return -1;
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return bx_fail(err, errno, "cannot write \"%s\" to %s", text, path);
	return 0;
}

/* The first line of a cgroup file into out ("" when unreadable). */
static void read_line(const char *dir, const char *file, char *out, size_t size)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	out[0] = '\0';
	if (bx_path_join(path, sizeof(path), NULL, "%s/%s", dir, file) == 0 && bx_read_file(path, &text, NULL, NULL) == 0)
		snprintf(out, size, "%.*s", (int)strcspn(text, "\n"), text);
}

static bool exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	return bx_path_join(path, sizeof(path), NULL, "%s/%s", dir, file) == 0 && access(path, F_OK) == 0;
}

/* Whether s holds word as a whole (cgroup.controllers: "cpuset cpu io memory"). */
static bool has_word(const char *s, const char *word)
{
	size_t n = strlen(word);
	for (const char *p = s; (p = strstr(p, word)); p += n)
		if ((p == s || p[-1] == ' ') && (p[n] == '\0' || p[n] == ' ' || p[n] == '\n'))
			return true;
	return false;
}

/* The controllers of the host's cgroup hierarchy: v1 when the memory
 * controller is mounted as v1 (a hybrid host's unified tree has none). */
static unsigned probe(int *version)
{
	unsigned ctl = 0;
	*version = 0;
	if (exists(v1[0].root, v1[0].probe)) {
		*version = 1;
		for (int i = 0; i < BX_CG_DIRS; i++)
			if (exists(v1[i].root, v1[i].probe))
				ctl |= v1[i].ctl;
		return ctl;
	}
	_cleanup_free_ char *ctrl = NULL;
	if (bx_read_file(V2_ROOT "/cgroup.controllers", &ctrl, NULL, NULL) < 0)
		return 0;
	*version = 2;
	for (int i = 0; i < BX_CG_DIRS; i++)
		if (has_word(ctrl, v2[i].name))
			ctl |= v2[i].ctl;
	return ctl;
}

unsigned bx_cgroup_support(int *version, char *why, size_t why_size)
{
	unsigned ctl = probe(version);
	why[0] = '\0';
	if (geteuid() != 0) {
		snprintf(why, why_size, "boxvm runs without root: boxes' VMs get no host cgroup");
		return 0;
	}
	if (!*version) {
		snprintf(why, why_size, "no cgroup hierarchy is mounted at %s: boxes' VMs get no host cgroup", V2_ROOT);
		return 0;
	}
	char missing[64] = "";
	for (int i = 0; i < BX_CG_DIRS; i++)
		if (!(ctl & v1[i].ctl))
			snprintf(missing + strlen(missing), sizeof(missing) - strlen(missing), "%s%s", missing[0] ? ", " : "",
				 v1[i].name);
	if (missing[0])
		snprintf(why, why_size, "no %s controller in the host's cgroup v%d hierarchy: boxes' VMs run without "
					"those limits on the host", missing, *version);
	return ctl;
}

/* The box's directory for one controller (v2: the one directory). */
static int box_path(int version, int i, const char *box_id, char *out, size_t size, struct bx_err *err)
{
	return bx_path_join(out, size, err, "%s/boxvm/%s", version == 1 ? v1[i].root : V2_ROOT, box_id);
}

static const char *dir_of(const struct bx_cgroup *cg, unsigned ctl)
{
	for (int i = 0; i < cg->ndirs; i++)
		if (cg->dir[i].ctl & ctl)
			return cg->dir[i].path;
	return NULL;
}

static void reset(struct bx_cgroup *cg)
{
	memset(cg, 0, sizeof(*cg));
	for (int i = 0; i < BX_CG_DIRS; i++)
		cg->dir[i].procs = -1;
}

/* A v1 cpuset starts with no CPUs and no memory nodes: a process cannot
 * join it until both are copied from its parent. */
static int cpuset_inherit(const char *dir, bool cpus_too, struct bx_err *err)
{
	char parent[PATH_MAX], cur[BX_CPUSET_TEXT], from[BX_CPUSET_TEXT];
	snprintf(parent, sizeof(parent), "%s", dir);
	*strrchr(parent, '/') = '\0';
	const char *files[2] = {"cpuset.mems", "cpuset.cpus"};
	for (int i = 0; i < (cpus_too ? 2 : 1); i++) {
		read_line(dir, files[i], cur, sizeof(cur));
		read_line(parent, files[i], from, sizeof(from));
		if (!cur[0] && write_text(dir, files[i], from, err) < 0)
			return -1;
	}
	return 0;
}

static int make_dir(const char *path, struct bx_err *err)
{
	if (mkdir(path, 0755) < 0 && errno != EEXIST) /* EEXIST: left by a killed shim; empty */
		return bx_fail(err, errno, "cannot create %s", path);
	return 0;
}

int bx_cgroup_create(struct bx_cgroup *cg, const char *box_id, const struct bx_cg_limits *l, struct bx_err *err)
{
	reset(cg);
	if (geteuid() != 0)
		return bx_fail(err, EPERM, "cgroups need root");
	unsigned ctl = probe(&cg->version);
	if (!ctl)
		return bx_fail(err, 0, "no cgroup memory, cpu or cpuset controller is mounted");
	char parent[PATH_MAX];
	if (cg->version == 2) {
		/* a controller reaches a child only once every ancestor enables it
		 * for its subtree (one the host refuses is simply left out below) */
		if (bx_path_join(parent, sizeof(parent), err, V2_ROOT "/boxvm") < 0 || make_dir(parent, err) < 0)
			goto fail;
		for (int i = 0; i < BX_CG_DIRS; i++) {
			char plus[16];
			snprintf(plus, sizeof(plus), "+%s", v2[i].name);
			write_text(V2_ROOT, "cgroup.subtree_control", plus, NULL);
			write_text(parent, "cgroup.subtree_control", plus, NULL);
		}
		if (box_path(2, 0, box_id, cg->dir[0].path, sizeof(cg->dir[0].path), err) < 0 ||
		    make_dir(cg->dir[0].path, err) < 0)
			goto fail;
		cg->ndirs = 1;
		for (int i = 0; i < BX_CG_DIRS; i++)
			if (exists(cg->dir[0].path, v2[i].file))
				cg->dir[0].ctl |= v2[i].ctl;
	} else {
		for (int i = 0; i < BX_CG_DIRS; i++) {
			if (!(ctl & v1[i].ctl))
				continue;
			char *path = cg->dir[cg->ndirs].path;
			if (bx_path_join(parent, sizeof(parent), err, "%s/boxvm", v1[i].root) < 0 || make_dir(parent, err) < 0 ||
			    (v1[i].ctl == BX_CG_CPUSET && cpuset_inherit(parent, true, err) < 0) ||
			    box_path(1, i, box_id, path, PATH_MAX, err) < 0 || make_dir(path, err) < 0)
				goto fail;
			cg->dir[cg->ndirs++].ctl = v1[i].ctl;
			if (v1[i].ctl == BX_CG_CPUSET && cpuset_inherit(path, false, err) < 0)
				goto fail;
		}
	}
	if (bx_cgroup_set(cg, l, BX_CG_ALL, err) < 0)
		goto fail;
	return 0;
fail:
	bx_cgroup_remove(cg, NULL);
	reset(cg);
	return -1;
}

int bx_cgroup_procs_open(struct bx_cgroup *cg, struct bx_err *err)
{
	for (int i = 0; i < cg->ndirs; i++) {
		char path[PATH_MAX];
		if (bx_path_join(path, sizeof(path), err, "%s/cgroup.procs", cg->dir[i].path) < 0)
			return -1;
		if ((cg->dir[i].procs = open(path, O_WRONLY | O_CLOEXEC)) < 0) {
			bx_fail(err, errno, "cannot open %s", path);
			bx_cgroup_procs_close(cg);
			return -1;
		}
	}
	return 0;
}

int bx_cgroup_join(const struct bx_cgroup *cg)
{
	for (int i = 0; i < cg->ndirs; i++)
		if (cg->dir[i].procs >= 0 && write(cg->dir[i].procs, "0", 1) != 1)
			return -1;
	return 0;
}

/* The pids in a cgroup directory's cgroup.procs, up to max; -1 if it cannot be read. */
static int read_procs(const char *dir, int *pids, int max)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/cgroup.procs", dir) < 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	int n = 0;
	char line[32];
	while (n < max && fgets(line, sizeof(line), f))
		if (atoi(line) > 0)
			pids[n++] = atoi(line);
	fclose(f);
	return n;
}

int bx_cgroup_move_all(const struct bx_cgroup *from, const struct bx_cgroup *to)
{
	int rc = 0;
	for (int d = 0; d < from->ndirs; d++) {
		int pids[256];
		int n = read_procs(from->dir[d].path, pids, 256); /* a pool VM's: a handful */
		if (n < 0)
			return -1;
		/* a process in every controller's directory is moved once per directory: harmless */
		for (int k = 0; k < n; k++) {
			char line[16];
			int len = snprintf(line, sizeof(line), "%d", pids[k]);
			for (int i = 0; i < to->ndirs; i++)
				if (to->dir[i].procs >= 0 && write(to->dir[i].procs, line, (size_t)len) != len && errno != ESRCH)
					rc = -1;
		}
	}
	return rc;
}

void bx_cgroup_procs_close(struct bx_cgroup *cg)
{
	for (int i = 0; i < cg->ndirs; i++) { /* (a zeroed struct has no directory, and no fd to close) */
		if (cg->dir[i].procs >= 0)
			close(cg->dir[i].procs);
		cg->dir[i].procs = -1;
	}
}

int bx_cgroup_find(struct bx_cgroup *cg, const char *box_id, struct bx_err *err)
{
	reset(cg);
	unsigned ctl = probe(&cg->version);
	for (int i = 0; i < BX_CG_DIRS && ctl; i++) {
		char *path = cg->dir[cg->ndirs].path;
		if (cg->version == 1 ? !(ctl & v1[i].ctl) : i > 0)
			continue;
		if (box_path(cg->version, i, box_id, path, PATH_MAX, NULL) < 0 || access(path, F_OK) < 0)
			continue;
		for (int k = 0; k < BX_CG_DIRS; k++)
			if (cg->version == 1 ? k == i : exists(path, v2[k].file))
				cg->dir[cg->ndirs].ctl |= v2[k].ctl;
		cg->ndirs++;
	}
	if (!cg->ndirs) {
		reset(cg);
		return bx_fail(err, ENOENT, "the box's VM has no host cgroup");
	}
	return 0;
}

int bx_cgroup_set(const struct bx_cgroup *cg, const struct bx_cg_limits *l, unsigned which, struct bx_err *err)
{
	char text[BX_CPUSET_TEXT];
	const char *d;
	if ((which & BX_CG_MEMORY) && l->memory_max && (d = dir_of(cg, BX_CG_MEMORY))) {
		snprintf(text, sizeof(text), "%llu", (unsigned long long)l->memory_max);
		if (write_text(d, cg->version == 1 ? "memory.limit_in_bytes" : "memory.max", text, err) < 0)
			return -1;
	}
	if ((which & BX_CG_CPU) && (d = dir_of(cg, BX_CG_CPU))) {
		if (cg->version == 2) {
			bx_cg_cpu_max(l->nano_cpus, text, sizeof(text));
			if (write_text(d, "cpu.max", text, err) < 0)
				return -1;
			snprintf(text, sizeof(text), "%llu", (unsigned long long)bx_cg_shares_to_weight(l->cpu_shares));
			if (write_text(d, "cpu.weight", text, err) < 0)
				return -1;
		} else {
			snprintf(text, sizeof(text), "%d", BX_CFS_PERIOD_US);
			if (write_text(d, "cpu.cfs_period_us", text, err) < 0)
				return -1;
			snprintf(text, sizeof(text), "%lld", bx_cg_cfs_quota(l->nano_cpus));
			if (write_text(d, "cpu.cfs_quota_us", text, err) < 0)
				return -1;
			snprintf(text, sizeof(text), "%lld", bx_cg_shares(l->cpu_shares));
			if (write_text(d, "cpu.shares", text, err) < 0)
				return -1;
		}
	}
	if ((which & BX_CG_CPUSET) && (d = dir_of(cg, BX_CG_CPUSET))) {
		/* none asked: every CPU of the parent (v2: an empty list inherits them) */
		if (l->cpuset[0])
			snprintf(text, sizeof(text), "%s", l->cpuset);
		else if (cg->version == 2)
			snprintf(text, sizeof(text), "\n");
		else {
			char parent[PATH_MAX];
			snprintf(parent, sizeof(parent), "%s", d);
			*strrchr(parent, '/') = '\0';
			read_line(parent, "cpuset.cpus", text, sizeof(text));
		}
		if (write_text(d, "cpuset.cpus", text, err) < 0)
			return -1;
	}
	return 0;
}

long bx_cgroup_oom_kills(const struct bx_cgroup *cg)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	const char *d = dir_of(cg, BX_CG_MEMORY);
	if (!d || bx_path_join(path, sizeof(path), NULL, "%s/%s", d,
			       cg->version == 1 ? "memory.oom_control" : "memory.events") < 0 ||
	    bx_read_file(path, &text, NULL, NULL) < 0)
		return 0;
	const char *k = strstr(text, "oom_kill ");
	return k ? strtol(k + strlen("oom_kill "), NULL, 10) : 0;
}

int bx_cgroup_remove(struct bx_cgroup *cg, struct bx_err *err)
{
	bx_cgroup_procs_close(cg);
	int rc = 0;
	for (int d = 0; d < cg->ndirs; d++) {
		/* a killed process leaves its cgroup a moment after it is reaped */
		for (int i = 0; rmdir(cg->dir[d].path) < 0; i++) {
			if (errno == ENOENT)
				break;
			if (errno != EBUSY || i >= 200) {
				rc = bx_fail(err, errno, "cannot remove cgroup %s", cg->dir[d].path);
				break;
			}
			nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
		}
	}
	if (rc == 0)
		reset(cg);
	return rc;
}

int bx_host_cpus(char *online, size_t size)
{
	_cleanup_free_ char *text = NULL;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (bx_read_file("/sys/devices/system/cpu/online", &text, NULL, NULL) == 0)
		snprintf(online, size, "%.*s", (int)strcspn(text, "\n"), text);
	else
		snprintf(online, size, "0-%ld", n > 0 ? n - 1 : 0);
	return n > 0 ? (int)n : 1;
}

void bx_cgroup_remove_box(const char *box_id)
{
	struct bx_cgroup cg;
	if (geteuid() != 0 || bx_cgroup_find(&cg, box_id, NULL) < 0)
		return;
	/* Called once the box's shim is dead. Its VM processes are killed by its
	 * death, but they exit a moment later (a large QEMU takes a while to tear
	 * down its memory): whatever is left is killed again and waited for, or
	 * the directory is still busy and outlives the box. */
	for (int d = 0; d < cg.ndirs; d++) {
		int pids[64], n;
		/* (bounded: a process that cannot die must not hang a remove) */
		for (int round = 0; round < 3 && (n = read_procs(cg.dir[d].path, pids, 64)) > 0; round++)
			bx_signal_and_wait(pids, n, SIGKILL, 10000);
	}
	bx_cgroup_remove(&cg, NULL);
}
