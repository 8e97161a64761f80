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
