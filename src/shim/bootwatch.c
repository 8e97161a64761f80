/* A TCG boot that stopped: the shim asks QEMU how much guest code it has
 * translated so far, and a boot never heard from whose count stands still
 * is over. Under TCG every guest instruction runs from a translation block
 * (TB), and a booting kernel and agent keep reaching code they never ran
 * before: a count that does not move for BOOT_WATCH_STILL_MS means both
 * vCPUs only loop over code they already ran (or sleep with nothing to wake
 * them). Seen here about once in 340-600 boots on a loaded host, both vCPUs
 * spinning with interrupts off in the kernel's int3 text-patching paths
 * (docs/ARCHITECTURE.md, "Guest clock"): that boot never comes up, so it is
 * booted again at once (freshboot.c) instead of waiting for the backstop.
 *
 * Only before the guest is heard from: until then only boxvm's kernel and
 * agent run in the VM, so nothing the box's own code does is judged. A
 * healthy boot waiting that long for the host (virtiofsd starved) is booted
 * again too, which costs it a boot and nothing else. KVM runs guest code
 * natively: there is no count to read, and no such hang is known. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "shim.h"

#define BOOT_WATCH_AFTER_MS 10000 /* a boot takes ~4 s under TCG, ~6-8 s on a loaded host */
#define BOOT_WATCH_EVERY_MS 2500
#define BOOT_WATCH_STILL_MS 10000
#define BOOT_WATCH_QMP_MS 2000 /* a hang guard: QEMU's monitor answers in milliseconds */

void shim_boot_watch_reset(struct shim *s)
{
	s->watch.next_ms = s->t0_ms + BOOT_WATCH_AFTER_MS;
	s->watch.since_ms = 0;
	s->watch.tbs[0] = '\0';
}

static bool watched(const struct shim *s)
{
	return !strcmp(s->spec.accel, "tcg") && (s->state == SHIM_STARTING || s->state == SHIM_PAUSE_PENDING) &&
	       !s->mux.dead && !shim_guest_heard(s);
}

long long shim_boot_watch_wake(const struct shim *s)
{
	return watched(s) ? s->watch.next_ms : 0;
}

/* QEMU's "info jit" counts of translations (TBs made, flushes of them all,
 * invalidations), joined; "" when it did not answer with all three. QEMU
 * runs code the guest steers, so only those bounded numbers are kept. */
static void translation_counts(struct shim *s, char *out, size_t size)
{
	static const char *const keys[] = {"TB count", "TB flush count", "TB invalidate count"};
	const size_t nkeys = sizeof(keys) / sizeof(keys[0]);
	char nums[3][24] = {"", "", ""};
	out[0] = '\0';
	json_t *ret = NULL;
	struct bx_err err;
	if (shim_qmp(s, "human-monitor-command", "{\"command-line\": \"info jit\"}", &ret, BOOT_WATCH_QMP_MS, &err) < 0)
		return;
	for (const char *line = json_string_value(ret); line && *line;) {
		size_t len = strcspn(line, "\n");
		for (size_t k = 0; k < nkeys; k++) {
			size_t klen = strlen(keys[k]);
			if (len > klen && !strncmp(line, keys[k], klen) && line[klen] == ' ') {
				const char *num = line + klen + strspn(line + klen, " ");
				size_t digits = strspn(num, "0123456789");
				if (digits && digits < sizeof(nums[k]))
					snprintf(nums[k], sizeof(nums[k]), "%.*s", (int)digits, num);
			}
		}
		line += len + (line[len] == '\n');
	}
	json_decref(ret);
	if (nums[0][0] && nums[1][0] && nums[2][0])
		snprintf(out, size, "%s made, %s flushes, %s invalidated", nums[0], nums[1], nums[2]);
}

bool shim_boot_stalled(struct shim *s, long long now, char *why, size_t why_size)
{
	if (!watched(s) || now < s->watch.next_ms)
		return false;
	s->watch.next_ms = now + BOOT_WATCH_EVERY_MS;
	char tbs[sizeof(s->watch.tbs)];
	translation_counts(s, tbs, sizeof(tbs));
	if (!tbs[0] || strcmp(tbs, s->watch.tbs)) { /* moving (or not known): watch from here */
		snprintf(s->watch.tbs, sizeof(s->watch.tbs), "%s", tbs);
		s->watch.since_ms = now;
		return false;
	}
	if (now - s->watch.since_ms < BOOT_WATCH_STILL_MS)
		return false;
	shim_log(s, true, "translation counts unchanged for %lld ms, %lld ms into the boot: %s", now - s->watch.since_ms,
		 now - s->t0_ms, tbs);
	snprintf(why, why_size, "its boot stalled (the guest ran no new code for %lld s)",
		 (now - s->watch.since_ms) / 1000);
	return true;
}
