/* Docker's "oom" event from inside the VM: the guest kernel's OOM killer
 * reports each kill in its log; the agent reads /dev/kmsg (one record per
 * read, pollable) and tells the host on the main channel (BX_M_OOM). The
 * host bounds what it makes of these (src/shim/link.c): a guest could
 * trigger OOM kills on purpose. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "../proto/frame.h"
#include "pure/kmsg.h"

int agent_oom_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		agent_err("/dev/kmsg: %s (no oom events)", strerror(errno));
		return -1;
	}
	lseek(fd, 0, SEEK_END); /* the boot's records are not news */
	return fd;
}

void agent_oom_read(struct agent *ag)
{
	char rec[2048];
	for (int i = 0; i < 64; i++) { /* a bounded batch; the rest at the next poll */
		ssize_t n = read(ag->kmsg_fd, rec, sizeof(rec));
		if (n < 0 && errno == EPIPE)
			continue; /* records were overwritten before we read them: go on with the next */
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return;
		int pid = bx_kmsg_oom_pid(rec, (size_t)n);
		if (pid <= 0)
			continue;
		agent_info("the OOM killer killed process %d", pid);
		if (ag->main && ag->main->chan_id) {
			uint8_t le[4];
			bx_put_u32(le, (uint32_t)pid);
			session_send_msg(ag->main, BX_M_OOM, le, sizeof(le));
		}
	}
}
