/* passt's port spec for a box whose network is a joined namespace with no
 * explicit ports (boxvm-runtime in a pod): every UDP port of the namespace
 * goes to the box (its TCP ports follow its listeners: podnet.c). passt
 * needs one fd per port and family for that (vm/passt_fwd.h), so the shim
 * raises RLIMIT_NOFILE for it where it may (CAP_SYS_RESOURCE) and otherwise
 * forwards the low ports the limit allows, saying so in shim.log. */
#include <errno.h>
#include <net/route.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../vm/passt_fwd.h"
#include "shim.h"

/* passt serves IPv6 only where the namespace has an IPv6 default route;
 * then every port takes a socket per family. */
static int namespace_families(void)
{
	FILE *f = fopen("/proc/self/net/ipv6_route", "re");
	if (!f)
		return 1; /* IPv6 disabled */
	char line[256], dst[33];
	unsigned plen, flags;
	int families = 1;
	/* DEST PLEN SRC SPLEN NEXTHOP METRIC REFCNT USE FLAGS DEV; the kernel's
	 * own ::/0 "unreachable" entries on lo carry RTF_REJECT */
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%32s %x %*s %*s %*s %*s %*s %*s %x", dst, &plen, &flags) == 3 &&
		    !strcmp(dst, "00000000000000000000000000000000") && plen == 0 && (flags & RTF_UP) &&
		    !(flags & RTF_REJECT)) {
			families = 2;
			break;
		}
	fclose(f);
	return families;
}

/* true if some UDP port in 1..top has no socket bound in this namespace.
 * Another box of the same pod (one VM per container, all in the pod's
 * namespace) forwarding every port already holds them all, and passt exits
 * when it can bind none of a spec's ports, taking the box's network with
 * it. */
static bool any_port_free(int top)
{
	static const char *const files[] = {"/proc/self/net/udp", "/proc/self/net/udp6"};
	static unsigned char taken[65536 / 8];
	memset(taken, 0, sizeof(taken));
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "re");
		if (!f)
			continue;
		char line[512];
		unsigned port;
		/* "  sl  local_address rem_address ...": "0: 0100007F:0035 00000000:0000 ..." */
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, " %*d: %*[0-9A-Fa-f]:%x", &port) == 1 && port < 65536)
				taken[port / 8] |= (unsigned char)(1u << (port % 8));
		fclose(f);
	}
	for (int p = 1; p <= top; p++)
		if (!(taken[p / 8] & (1u << (p % 8))))
			return true;
	return false;
}

int shim_passt_all_prepare(struct shim *s, char *udp, size_t size, struct rlimit *saved, struct bx_err *err)
{
	if (getrlimit(RLIMIT_NOFILE, saved) < 0)
		return bx_fail(err, errno, "getrlimit RLIMIT_NOFILE");
	int families = namespace_families();
	rlim_t need = (rlim_t)bx_passt_all_nofile(families);
	if (saved->rlim_max != RLIM_INFINITY && saved->rlim_max < need) {
		struct rlimit more = {need, need};
		if (setrlimit(RLIMIT_NOFILE, &more) < 0)
			shim_log(s, false, "cannot raise RLIMIT_NOFILE to %llu: %s", (unsigned long long)need,
				 strerror(errno));
	}
	struct rlimit now;
	if (getrlimit(RLIMIT_NOFILE, &now) < 0)
		return bx_fail(err, errno, "getrlimit RLIMIT_NOFILE");
	long hard = now.rlim_max == RLIM_INFINITY || now.rlim_max > (rlim_t)1 << 30 ? 1L << 30 : (long)now.rlim_max;
	int top = bx_passt_all_spec(hard, families, udp, size);
	if (top == 0) {
		setrlimit(RLIMIT_NOFILE, saved);
		return bx_fail(err, 0, "RLIMIT_NOFILE %ld is too low for passt to forward any port of the network namespace "
				       "(raise LimitNOFILE of the service that runs the container runtime)", hard);
	}
	if (top < BX_PASST_PORT_TOP)
		shim_log(s, true, "warning: RLIMIT_NOFILE %ld (IPv%s) lets passt forward ports 1-%d only, not 1-%d: "
				  "raise LimitNOFILE of the service that runs the container runtime to %ld",
			 hard, families > 1 ? "4+IPv6" : "4", top, BX_PASST_PORT_TOP, bx_passt_all_nofile(families));
	if (!any_port_free(top)) {
		shim_log(s, true, "every UDP port 1-%d of the network namespace is taken (another container of the pod?): "
				  "none forwarded to this box", top);
		udp[0] = '\0';
	}
	return 0;
}
