/* Live limits of the box's cgroup in the guest (BX_M_LIMIT): `update` of a
 * running box changes /sys/fs/cgroup/box's pids.max, memory.max,
 * memory.low, cpu.weight or cpuset.cpus. The request is checked against a
 * whitelist first (pure/limit.h): the host names a limit, never a path. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pure/limit.h"

int agent_limit_set(const char *text, size_t len, struct bx_err *err)
{
	struct bx_limit l;
	if (bx_limit_parse(text, len, &l, err) < 0)
		return -1;
	if (access(BX_GUEST_CGROUP, F_OK) < 0)
		return bx_fail(err, 0, "the box has no cgroup");
	char path[64];
	snprintf(path, sizeof(path), BX_GUEST_CGROUP "/%s", l.file);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return bx_fail(err, errno, "the box's cgroup has no %s", l.file);
	ssize_t n = write(fd, l.value, strlen(l.value));
	int e = errno;
	close(fd);
	/* the kernel refuses what it cannot honour (a memory.max below what the
	 * box uses and cannot reclaim: EBUSY), in its words */
	if (n != (ssize_t)strlen(l.value))
		return bx_fail(err, e, "cannot set %s to %s", l.file, l.value);
	return 0;
}
