/* A boot that cannot come up is booted again, unseen: a fresh VM on the same
 * rootfs, as a restart does but with no restart counted, no backoff, no
 * event, and the client and a waiting `run -d` kept. Two causes, both of
 * TCG on a loaded host, neither the box's doing (only boxvm's kernel and
 * agent have run when they are seen):
 *   - a kernel without a timer (a host stall defeated its boot-time
 *     calibration): the agent powers such a boot off at once, saying why on
 *     the console in the words of proto/guest_fatal.h; another boot
 *     calibrates again;
 *   - a boot that stalled (bootwatch.c): the shim ended it.
 *
 * The console is the guest's to write: a hostile guest that prints the words
 * gets nothing but to be booted again, and at most FRESH_BOOTS_MAX times per
 * start of the box. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/guest_fatal.h"
#include "shim.h"

#define FRESH_BOOTS_MAX 3
/* the agent's line is followed by the kernel's power-down line at most */
#define FRESH_BOOT_TAIL_LINES 3

static bool timerless(struct shim *s)
{
	if (s->end_reason != END_VM_GONE)
		return false;
	shim_capture_finish(s, &s->console); /* QEMU is gone: all it printed is in the file */
	char tail[1024];
	return shim_log_tail(s->spec.box_dir, "console.log", FRESH_BOOT_TAIL_LINES, tail, sizeof(tail)) == 0 &&
	       strstr(tail, BX_GUEST_FATAL BX_GUEST_NO_TIMER);
}

bool shim_fresh_boot_wanted(struct shim *s)
{
	if (s->pooled || shim_guest_heard(s) || s->main_started)
		return false;
	bool stalled = s->end_reason == END_STALLED;
	if (!stalled && !timerless(s))
		return false;
	if (s->fresh_boots >= FRESH_BOOTS_MAX) { /* the box fails, saying so */
		snprintf(s->end_msg, sizeof(s->end_msg), "%s in %d boots in a row",
			 stalled ? "the boot stalled" : "the guest kernel had no timer", FRESH_BOOTS_MAX + 1);
		return false;
	}
	s->fresh_boots++;
	if (stalled) { /* what the stalled boot left is kept for a look (cleanup.c) */
		char diag[PATH_MAX];
		shim_keep_console(s, s->autopsy, diag, sizeof(diag));
		free(s->autopsy);
		s->autopsy = NULL;
		shim_log(s, true, "the boot stalled (its console and where it stood: %s): booting the VM again (%d of %d)",
			 diag[0] ? diag : "not kept", s->fresh_boots, FRESH_BOOTS_MAX);
	} else
		shim_log(s, true, "the guest kernel came up without a timer (its calibration was stalled by the busy host): "
			 "booting the VM again (%d of %d)", s->fresh_boots, FRESH_BOOTS_MAX);
	return true;
}
