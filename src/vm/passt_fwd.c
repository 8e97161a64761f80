/* passt's port spec for "every UDP port of the namespace" (passt_fwd.h). */
#include <stdio.h>

#include "passt_fwd.h"

/* Half of a small limit: a passt with few listening sockets and room for
 * connections beats one with many sockets and none left to accept on. */
static long reserve_for(long nofile)
{
	return nofile / 2 < BX_PASST_FD_RESERVE ? nofile / 2 : BX_PASST_FD_RESERVE;
}

long bx_passt_all_nofile(int families)
{
	return (long)BX_PASST_PORT_TOP * (families > 1 ? 2 : 1) + BX_PASST_FD_RESERVE;
}

int bx_passt_all_spec(long nofile, int families, char *spec, size_t size)
{
	long per_port = families > 1 ? 2 : 1; /* a UDP socket per family */
	if (nofile >= bx_passt_all_nofile(families)) {
		snprintf(spec, size, "all");
		return BX_PASST_PORT_TOP;
	}
	long top = nofile > 0 ? (nofile - reserve_for(nofile)) / per_port : 0;
	if (top > BX_PASST_PORT_TOP)
		top = BX_PASST_PORT_TOP;
	if (top < 1) {
		snprintf(spec, size, "none");
		return 0;
	}
	snprintf(spec, size, "1-%ld", top);
	return (int)top;
}
