/* A boot the guest kernel could not go on with is booted again: the agent
 * powers such a boot off at once, saying why on the console in the words of
 * proto/guest_fatal.h, and the shim starts a fresh VM on the same rootfs, as
 * a restart does but unseen (no restart counted, no backoff, no event, the
 * client and a waiting `run -d` stay). Today the one such cause is a kernel
 * without a timer (a host stall defeated its boot-time calibration, TCG
 * only); another boot calibrates again.
 *
 * The console is the guest's to write: a hostile guest that prints the words
 * gets nothing but to be booted again, and at most FRESH_BOOTS_MAX times per
 * start of the box. */
#include <stdio.h>
#include <string.h>

#include "../proto/guest_fatal.h"
#include "shim.h"

#define FRESH_BOOTS_MAX 3
/* the agent's line is followed by the kernel's power-down line at most */
#define FRESH_BOOT_TAIL_LINES 3

bool shim_fresh_boot_wanted(struct shim *s)
{
	if (s->pooled || s->end_reason != END_VM_GONE || s->hb_pong || s->main_activity || s->main_started)
		return false;
	shim_capture_finish(s, &s->console); /* QEMU is gone: all it printed is in the file */
	char tail[1024];
	if (shim_log_tail(s->spec.box_dir, "console.log", FRESH_BOOT_TAIL_LINES, tail, sizeof(tail)) < 0 ||
	    !strstr(tail, BX_GUEST_FATAL BX_GUEST_NO_TIMER))
		return false;
	if (s->fresh_boots >= FRESH_BOOTS_MAX) { /* the box fails, saying so */
		snprintf(s->end_msg, sizeof(s->end_msg), "the guest kernel had no timer in %d boots in a row",
			 FRESH_BOOTS_MAX + 1);
		return false;
	}
	s->fresh_boots++;
	shim_log(s, true, "the guest kernel came up without a timer (its calibration was stalled by the busy host): "
		 "booting the VM again (%d of %d)", s->fresh_boots, FRESH_BOOTS_MAX);
	return true;
}
