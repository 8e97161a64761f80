/* What a build's RUN step leaves running dies with it (agent.h). */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/* state and parent of pid from /proc/PID/stat ("pid (comm) S ppid ...";
 * comm may hold anything, so read after its last ')') */
static bool proc_state(pid_t pid, char *state, pid_t *ppid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	char *r = strrchr(buf, ')');
	int pp;
	if (!r || sscanf(r + 1, " %c %d", state, &pp) != 2)
		return false;
	*ppid = pp;
	return true;
}

void agent_kill_leftovers(const struct agent *ag)
{
	pid_t keep = ag->main ? ag->main->pid : 0, self = getpid();
	/* SIGKILL'd processes cannot fork, so each round leaves fewer; the
	 * bound only guards against one stuck in the kernel for good */
	for (int round = 0; round < 2000; round++) {
		DIR *d = opendir("/proc");
		if (!d)
			return;
		bool any = false;
		struct dirent *de;
		while ((de = readdir(d))) {
			char *end;
			long pid = strtol(de->d_name, &end, 10);
			char state;
			pid_t ppid;
			if (*end || pid <= 2 || pid == keep || pid == self || !proc_state((pid_t)pid, &state, &ppid) ||
			    ppid == 2 || state == 'Z' || state == 'X')
				continue; /* the agent, main, kernel threads, the dead */
			kill((pid_t)pid, SIGKILL);
			any = true;
		}
		closedir(d);
		if (!any)
			return;
		nanosleep(&(struct timespec){0, 1000000}, NULL);
	}
	agent_err("a build step's processes did not all end");
}
