/* Words the agent prints on the console before it powers a boot off, which
 * the shim acts upon. Shared by the agent and the shim. */
#ifndef BOXVM_PROTO_GUEST_FATAL_H
#define BOXVM_PROTO_GUEST_FATAL_H

/* how the agent's fatal lines start (agent/log.c, agent_fatal) */
#define BX_GUEST_FATAL "boxvm-agent: fatal: "

/* The guest kernel has no working timer (agent: clock.c): nothing that waits
 * for time would ever wake, so the boot cannot go on. Under TCG this is the
 * kernel's own doing: it times its local APIC timer against the TSC once at
 * boot, and a host that stalls the vCPU for 100 ms at the wrong moment makes
 * the timer look too slow, so the kernel turns it off -- and a microvm has
 * no other timer. The shim boots such a VM again (src/shim/freshboot.c). */
#define BX_GUEST_NO_TIMER "the guest kernel has no timer"

#endif
