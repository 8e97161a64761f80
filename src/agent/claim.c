/* A pool VM's box (BX_M_CLAIM, src/proto/msg.h): the spec and network
 * configuration a cold boot reads from its initramfs arrive on the port
 * instead, once the host has mounted the box's tree into the rootfs share.
 * One claim per VM: whatever its outcome, a second is refused, so a VM
 * never serves two boxes. */
#include "agent.h"

#include <errno.h>

int agent_claim(struct agent *ag, const uint8_t *payload, size_t len, struct bx_err *err)
{
	if (!ag->pool_wait)
		return bx_fail(err, 0, "this VM is not a pool VM waiting for a box");
	ag->pool_wait = false;
	const char *net;
	const uint8_t *enc;
	size_t net_len, enc_len;
	if (bx_claim_split(payload, len, &net, &net_len, &enc, &enc_len, err) < 0)
		return -1;
	struct bx_spec spec;
	bx_spec_init(&spec);
	if (bx_spec_decode(&spec, enc, enc_len, err) < 0) {
		bx_spec_free(&spec);
		return bx_wrap(err, "claim");
	}
	if (agent_box_setup(ag, &spec, net, net_len, err) < 0)
		return bx_wrap(err, "setting up the claimed box");
	agent_info("claimed: serving the box (uptime %llu ms)", (unsigned long long)agent_now_ms());
	return 0;
}
