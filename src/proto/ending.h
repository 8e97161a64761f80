/* How long each side waits as a box ends, where the agent's wait must fit
 * inside the shim's: both sides read them from here so the order holds. */
#ifndef BOXVM_PROTO_ENDING_H
#define BOXVM_PROTO_ENDING_H

/* main exited and the host acknowledged: the agent powers off once every
 * exec session's channel is closed, or after this long for a client that
 * does not read (src/agent/loop.c) */
#define BX_EXEC_LINGER_MS 3000
/* the shim kills QEMU when it has not powered off this long after main's
 * EXIT (src/shim/main.c): the agent's linger plus its sync and power-off */
#define BX_POWER_OFF_MS 5000

_Static_assert(BX_EXEC_LINGER_MS + 1000 < BX_POWER_OFF_MS,
	       "the agent's linger must end (and leave it time to sync) before the shim kills the VM");

#endif
