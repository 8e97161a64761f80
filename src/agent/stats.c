/* BX_M_STATS: the guest's numbers for `boxvm stats`, read from /proc (and
 * the box's cgroup: memory and tasks) in the loop itself. procfs reads never block and the files are small (a few KiB;
 * one stat line per task), so answering inline keeps PID 1 free of helper
 * processes and threads. Parsing is in pure/procstats.c. */
#include "agent.h"
#include "pure/procstats.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Tasks of the box: every thread of every process except the agent (PID 1,
 * boxvm's own, like a container runtime's shim) and the guest kernel's
 * threads (kthreadd, pid 2, and its children), which a container would not
 * see either. Docker's PIDS column (pids.current) counts threads too. */
static uint64_t count_tasks(void)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	uint64_t n = 0;
	struct dirent *e;
	char path[64], line[1024];
	while ((e = readdir(d))) {
		if (!bx_proc_is_pid_name(e->d_name) || !strcmp(e->d_name, "1") || !strcmp(e->d_name, "2"))
			continue;
		snprintf(path, sizeof(path), "/proc/%.20s/stat", e->d_name);
		long ppid, threads;
		if (bx_pidstat_parse(bx_read_text(path, line, sizeof(line)), &ppid, &threads) < 0)
			continue; /* exited meanwhile */
		if (ppid != 2 && threads > 0)
			n += (uint64_t)threads;
	}
	closedir(d);
	return n;
}

int agent_stats_collect(const struct agent *ag, struct bx_guest_stats *st, struct bx_err *err)
{
	/* 64 KiB: /proc/stat grows with vCPUs and interrupts, but only its
	 * first line is needed; meminfo, net/dev and diskstats are far smaller */
	size_t cap = 65536;
	char *buf = malloc(cap);
	memset(st, 0, sizeof(*st));
	if (!buf)
		return bx_fail(err, ENOMEM, "stats: out of memory");
	if (bx_meminfo_parse(bx_read_text("/proc/meminfo", buf, cap), &st->mem_total, &st->mem_available) < 0)
		agent_err("stats: no MemTotal in /proc/meminfo");
	bx_netdev_parse(bx_read_text("/proc/net/dev", buf, cap), &st->net_rx, &st->net_tx);
	bx_diskstats_parse(bx_read_text("/proc/diskstats", buf, cap), &st->blk_read, &st->blk_write);
	long hz = sysconf(_SC_CLK_TCK);
	if (bx_stat_cpu_parse(bx_read_text("/proc/stat", buf, cap), hz > 0 ? hz : 100, &st->cpu_ns) < 0)
		agent_err("stats: no cpu line in /proc/stat");
	free(buf);
	/* the box's cgroup where there is one: its memory (the limit that binds
	 * when --memory set memory.max, else the VM's) and its tasks */
	uint64_t current, max;
	if (agent_cgroup_read_u64(ag, "memory.current", &current)) {
		if (agent_cgroup_read_u64(ag, "memory.max", &max) && max < st->mem_total)
			st->mem_total = max;
		st->mem_available = current < st->mem_total ? st->mem_total - current : 0;
	}
	if (!agent_cgroup_read_u64(ag, "pids.current", &st->pids))
		st->pids = count_tasks();
	return 0;
}
