/* The guest's wall clock. The microVM has no RTC the kernel reads (and under
 * TCG no kvmclock), so the guest boots at 1970; the host sends its own
 * CLOCK_REALTIME on the main channel (BX_M_TIME, src/proto/msg.h): first
 * before main is spawned, then after every unpause (the VM's clock stood
 * still while frozen) and periodically against drift. The host is trusted
 * here: it is the guest that is untrusted, and only towards the host. */
#include "agent.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "../proto/guest_fatal.h"
#include "pure/procstats.h"

/* Closer than this is left alone: stepping the clock for a few ms of message
 * latency would only make time jump back and forth. */
#define STEP_THRESHOLD_NS (50LL * 1000 * 1000)

void agent_clock_sync(const uint8_t *payload, size_t len)
{
	struct bx_err err = {0};
	int64_t host_ns;
	if (bx_msg_time_decode(payload, len, &host_ns, &err) < 0) {
		agent_err("main channel: %s", err.msg);
		return;
	}
	struct timespec now;
	if (clock_gettime(CLOCK_REALTIME, &now) < 0) {
		agent_err("clock_gettime: %s", strerror(errno));
		return;
	}
	int64_t guest_ns = (int64_t)now.tv_sec * 1000000000LL + now.tv_nsec;
	int64_t off = host_ns - guest_ns;
	if (off > -STEP_THRESHOLD_NS && off < STEP_THRESHOLD_NS)
		return;
	struct timespec set = {.tv_sec = host_ns / 1000000000LL, .tv_nsec = host_ns % 1000000000LL};
	if (clock_settime(CLOCK_REALTIME, &set) < 0) {
		agent_err("clock_settime: %s", strerror(errno));
		return;
	}
	agent_info("clock stepped by %lld ms to the host's", (long long)(off / 1000000));
}

/* Before anything waits for time (the port's lookup sleeps): a kernel whose
 * local APIC timer never fired has no timer at all in a microvm, and this
 * boot would hang at the first sleep or RCU grace period. Said on the
 * console in the words the shim looks for (it then boots the VM again). */
void agent_require_timer(void)
{
	char text[16384];
	uint64_t ticks;
	if (bx_interrupts_local_timer(bx_read_text("/proc/interrupts", text, sizeof(text)), &ticks) == 0 && ticks == 0)
		agent_fatal(BX_GUEST_NO_TIMER ": its local APIC timer never fired (the kernel turns it off when its "
			    "boot-time calibration was stalled by a busy host)");
}
