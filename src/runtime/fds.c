/* The caller's other open files stay with the caller: the monitor and the
 * exec relay (forked, never exec'd) close every descriptor they were not
 * given, so nothing of the caller's reaches them or the shim and QEMU they
 * start (runc's callers check /proc for such leaks). */
#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include "rt.h"

void rt_close_inherited(const int *keep, size_t nkeep)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return;
	int fds[1024], n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && n < (int)(sizeof(fds) / sizeof(fds[0]))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd < 3 || fd == dirfd(d))
			continue;
		bool kept = false;
		for (size_t i = 0; i < nkeep; i++)
			kept = kept || keep[i] == fd;
		if (!kept)
			fds[n++] = (int)fd;
	}
	closedir(d);
	for (int i = 0; i < n; i++)
		close(fds[i]);
}
