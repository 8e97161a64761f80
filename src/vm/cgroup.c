/* QEMU's own memory cgroup (cgroup.h). */
#include "cgroup.h"

#include <errno.h>
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

#define V1_MEMORY "/sys/fs/cgroup/memory"
#define V2_ROOT "/sys/fs/cgroup"

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
		return bx_fail(err, errno, "cannot write %s", path);
	return 0;
}

static bool exists(const char *dir, const char *file)
{
	char path[PATH_MAX];
	return bx_path_join(path, sizeof(path), NULL, "%s/%s", dir, file) == 0 && access(path, F_OK) == 0;
}

/* Which hierarchy holds the memory controller, and the box's path in it. */
static int locate(struct bx_cgroup *cg, const char *box_id, struct bx_err *err)
{
	cg->path[0] = '\0';
	cg->version = 0;
	if (exists(V1_MEMORY, "memory.limit_in_bytes"))
		cg->version = 1;
	else if (exists(V2_ROOT, "cgroup.controllers")) {
		_cleanup_free_ char *ctrl = NULL;
		if (bx_read_file(V2_ROOT "/cgroup.controllers", &ctrl, NULL, NULL) == 0 && strstr(ctrl, "memory"))
			cg->version = 2;
	}
	if (!cg->version)
		return bx_fail(err, 0, "no cgroup memory controller is mounted");
	return bx_path_join(cg->path, sizeof(cg->path), err, "%s/boxvm/%s", cg->version == 1 ? V1_MEMORY : V2_ROOT,
			    box_id);
}

int bx_cgroup_create(struct bx_cgroup *cg, const char *box_id, uint64_t limit_bytes, struct bx_err *err)
{
	if (geteuid() != 0)
		return bx_fail(err, EPERM, "cgroups need root");
	if (locate(cg, box_id, err) < 0)
		return -1;
	char parent[PATH_MAX], limit[32];
	if (bx_path_join(parent, sizeof(parent), err, "%s/boxvm", cg->version == 1 ? V1_MEMORY : V2_ROOT) < 0)
		goto fail;
	if (mkdir(parent, 0755) < 0 && errno != EEXIST) {
		bx_fail(err, errno, "cannot create %s", parent);
		goto fail;
	}
	/* v2: a controller reaches a child only once every ancestor enables it
	 * for its subtree (an error here shows as the missing memory.max below) */
	if (cg->version == 2) {
		write_text(V2_ROOT, "cgroup.subtree_control", "+memory", NULL);
		write_text(parent, "cgroup.subtree_control", "+memory", NULL);
	}
	if (mkdir(cg->path, 0755) < 0 && errno != EEXIST) { /* EEXIST: left by a killed shim; empty */
		bx_fail(err, errno, "cannot create %s", cg->path);
		goto fail;
	}
	snprintf(limit, sizeof(limit), "%llu", (unsigned long long)limit_bytes);
	if (write_text(cg->path, cg->version == 1 ? "memory.limit_in_bytes" : "memory.max", limit, err) < 0) {
		bx_cgroup_remove(cg, NULL);
		goto fail;
	}
	return 0;
fail:
	cg->path[0] = '\0';
	cg->version = 0;
	return -1;
}

int bx_cgroup_procs_open(const struct bx_cgroup *cg, struct bx_err *err)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/cgroup.procs", cg->path) < 0)
		return -1;
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	return fd;
}

long bx_cgroup_oom_kills(const struct bx_cgroup *cg)
{
	char path[PATH_MAX];
	_cleanup_free_ char *text = NULL;
	if (!cg->version ||
	    bx_path_join(path, sizeof(path), NULL, "%s/%s", cg->path,
			 cg->version == 1 ? "memory.oom_control" : "memory.events") < 0 ||
	    bx_read_file(path, &text, NULL, NULL) < 0)
		return 0;
	const char *k = strstr(text, "oom_kill ");
	return k ? strtol(k + strlen("oom_kill "), NULL, 10) : 0;
}

int bx_cgroup_remove(struct bx_cgroup *cg, struct bx_err *err)
{
	if (!cg->path[0])
		return 0;
	/* a killed process leaves its cgroup a moment after it is reaped */
	for (int i = 0; rmdir(cg->path) < 0; i++) {
		if (errno == ENOENT)
			break;
		if (errno != EBUSY || i >= 200)
			return bx_fail(err, errno, "cannot remove cgroup %s", cg->path);
		nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
	}
	cg->path[0] = '\0';
	cg->version = 0;
	return 0;
}

void bx_cgroup_remove_box(const char *box_id)
{
	struct bx_cgroup cg;
	if (geteuid() == 0 && locate(&cg, box_id, NULL) == 0)
		rmdir(cg.path);
}
