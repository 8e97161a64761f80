/* Live limits of the box's cgroup in the guest (BX_M_LIMIT): `update` of a
 * running box changes its cgroup /box's pids.max, memory.max, memory.low,
 * cpu.weight or cpuset.cpus (through the agent's own handle on /box,
 * agent_cgroup_set: the agent's view of the hierarchy is not the box's). The request is checked against a
 * whitelist first (pure/limit.h): the host names a limit, never a path. */
#include "agent.h"


#include "pure/limit.h"

int agent_limit_set(const struct agent *ag, const char *text, size_t len, struct bx_err *err)
{
	struct bx_limit l;
	if (bx_limit_parse(text, len, &l, err) < 0)
		return -1;
	if (ag->cgroup_box_fd < 0)
		return bx_fail(err, 0, "the box has no cgroup");
	/* the kernel refuses what it cannot honour (a memory.max below what the
	 * box uses and cannot reclaim: EBUSY), in its words */
	return agent_cgroup_set(ag, l.file, l.value, err);
}
