/* The QEMU process of a running box: host-side accounting (boxvm stats) and its network namespace (vmproc.h). */
#include "vmproc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/cleanup.h"
#include "../common/paths.h"
#include "state.h"

int bx_qemu_pid_write(const char *run_dir, int pid, struct bx_err *err)
{
	unsigned long long start;
	char path[PATH_MAX], text[64];
	if (bx_proc_start_time(pid, &start, NULL) < 0)
		return bx_fail(err, 0, "cannot read the start time of qemu (pid %d)", pid);
	int n = snprintf(text, sizeof(text), "%d %llu\n", pid, start);
	if (bx_path_join(path, sizeof(path), err, "%s/qemu.pid", run_dir) < 0)
		return -1;
	return bx_write_file_atomic(path, text, (size_t)n, 0644, err);
}

int bx_proc_stat_times(const char *text, unsigned long long *utime, unsigned long long *stime,
		       unsigned long long *start)
{
	const char *p = strrchr(text, ')');
	if (!p)
		return -1;
	p++;
	for (int field = 3; field <= 22; field++) {
		while (*p == ' ')
			p++;
		if (!*p || *p == '\n')
			return -1;
		if (field == 14 || field == 15 || field == 22) {
			char *end;
			unsigned long long v = strtoull(p, &end, 10);
			if (end == p)
				return -1;
			*(field == 14 ? utime : field == 15 ? stime : start) = v;
		}
		p += strcspn(p, " \n");
	}
	return 0;
}

int bx_qemu_cpu_ns(const char *run_dir, uint64_t *ns)
{
	char path[PATH_MAX];
	_cleanup_free_ char *rec = NULL, *stat = NULL;
	if (bx_path_join(path, sizeof(path), NULL, "%s/qemu.pid", run_dir) < 0 ||
	    bx_read_file(path, &rec, NULL, NULL) < 0)
		return -1;
	int pid;
	unsigned long long want, ut, st, start;
	if (sscanf(rec, "%d %llu", &pid, &want) != 2 || pid <= 0)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	/* one read gives both the identity and the times, so they cannot belong
	 * to two different processes */
	if (bx_read_file(path, &stat, NULL, NULL) < 0 || bx_proc_stat_times(stat, &ut, &st, &start) < 0 ||
	    start != want)
		return -1;
	long hz = sysconf(_SC_CLK_TCK);
	if (hz <= 0)
		hz = 100;
	unsigned long long ticks = ut + st;
	*ns = (uint64_t)(ticks / (unsigned long long)hz) * 1000000000ull +
	      (uint64_t)(ticks % (unsigned long long)hz) * 1000000000ull / (uint64_t)hz;
	return 0;
}

int bx_qemu_netns_open(const char *run_dir, struct bx_err *err)
{
	char path[PATH_MAX];
	_cleanup_free_ char *rec = NULL;
	int pid;
	unsigned long long start, now;
	if (bx_path_join(path, sizeof(path), err, "%s/qemu.pid", run_dir) < 0 ||
	    bx_read_file(path, &rec, NULL, err) < 0)
		return -1;
	if (sscanf(rec, "%d %llu", &pid, &start) != 2 || pid <= 1)
		return bx_fail(err, 0, "%s: malformed", path);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "the box's VM is not running");
	/* opened, then checked: the namespace is that QEMU's, not a reused pid's */
	if (bx_proc_start_time(pid, &now, NULL) < 0 || now != start)
		return bx_fail(err, ESRCH, "the box's VM is not running");
	struct stat ours, its;
	if (stat("/proc/self/ns/net", &ours) < 0 || fstat(fd, &its) < 0)
		return bx_fail(err, errno, "cannot compare network namespaces");
	if (ours.st_ino == its.st_ino && ours.st_dev == its.st_dev)
		return bx_fail(err, ENOENT, "the box's VM shares the host's network namespace (it has no spare NICs)");
	return BX_TAKE_FD(fd);
}
