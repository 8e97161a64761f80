/* Joining and leaving a named network while the box runs (netlive.h). */
#include "netlive.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../client/exec_client.h"
#include "../common/cleanup.h"
#include "../proto/msg.h"
#include "../store/networks.h"
#include "../store/vmproc.h"

int bx_box_net_join_live(const struct bx_paths *p, const struct bx_box_record *rec, const struct bx_vm_net *net,
			 bool first_net, struct bx_err *err)
{
	if (!bx_box_is_running(rec)) {
		bx_fail(err, 0, "box %s is not running", rec->name);
		return 0;
	}
	_cleanup_close_ int park = bx_qemu_netns_open(rec->run_dir, err);
	if (park < 0)
		return 0;
	int n = bx_netd_tap_join(p, net->id, rec->id, park, err);
	if (n < 0)
		return strstr(err->msg, "no spare network interface") ? 0 : -1;
	char text[256];
	int len = snprintf(text, sizeof(text), "up " BX_SPARE_MAC_FMT " %s %s/%d\n", n, net->mac, net->ip, net->prefix);
	/* its first named network: the network's responder answers its names from now on, as after a boot */
	if (first_net)
		snprintf(text + len, sizeof(text) - (size_t)len, "dns %s %s\n", BX_NET_DNS, net->gateway);
	if (bx_exec_netcfg(rec, text, err) < 0) {
		struct bx_err ignored;
		bx_netd_tap_detach(p, net->id, rec->id, park, &ignored); /* a spare again */
		return bx_wrap(err, "cannot bring the box's new network interface up");
	}
	return 1;
}

int bx_box_net_leave_live(const struct bx_paths *p, const struct bx_box_record *rec, const struct bx_vmspec *vm,
			  const struct bx_vm_net *net, struct bx_err *err)
{
	if (!bx_box_is_running(rec))
		return 0;
	struct bx_err e;
	int park = bx_qemu_netns_open(rec->run_dir, &e); /* none: the tap just leaves the bridge */
	int n = bx_netd_tap_detach(p, net->id, rec->id, park, &e);
	if (park >= 0)
		close(park);
	if (n < 0)
		return 0;
	char text[256];
	int len = snprintf(text, sizeof(text), "down %s " BX_SPARE_MAC_FMT "\n", net->mac, park >= 0 ? n : 15);
	/* its resolver was this network's responder: the next network's, or passt's */
	const char *next = vm->nnets ? vm->nets[0].gateway : vm->network ? BX_NET_DNS : NULL;
	if (next && strcmp(next, net->gateway))
		snprintf(text + len, sizeof(text) - (size_t)len, "dns %s %s\n", net->gateway, next);
	if (bx_exec_netcfg(rec, text, err) < 0)
		return bx_wrap(err, "the box is off the network, but its guest still shows the interface");
	return 1;
}
