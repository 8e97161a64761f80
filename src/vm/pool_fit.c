/* Which boxes a warm-pool VM can serve (pool_fit.h). */
#include "pool_fit.h"

#include <stdio.h>
#include <string.h>

static bool differ(char *why, size_t size, const char *what)
{
	snprintf(why, size, "%s", what);
	return false;
}

bool bx_pool_fits(const struct bx_vmspec *pool, const struct bx_vmspec *box, char *why, size_t why_size)
{
	char want[sizeof(box->cmdline) + sizeof(" " BX_POOL_CMDLINE_WORD)];
	snprintf(want, sizeof(want), "%s %s", box->cmdline, BX_POOL_CMDLINE_WORD);
	if (strcmp(pool->accel, box->accel))
		return differ(why, why_size, "another accelerator");
	if (strcmp(pool->kernel, box->kernel))
		return differ(why, why_size, "another kernel");
	if (strcmp(pool->cmdline, want))
		return differ(why, why_size, "another kernel command line");
	if (strcmp(pool->libexec, box->libexec))
		return differ(why, why_size, "other boxvm helpers");
	if (pool->mem_mb != box->mem_mb)
		return differ(why, why_size, "another memory size");
	if (pool->cpus != box->cpus)
		return differ(why, why_size, "another vCPU count");
	if (pool->network != box->network)
		return differ(why, why_size, "another network mode");
	if (box->nnets)
		return differ(why, why_size, "named networks (their NICs exist from the boot)");
	/* each share of the box goes to the pool VM's spare share of its tag */
	if (box->nshares > pool->nshares)
		return differ(why, why_size, "more bind mounts and volumes than the pool VM has shares");
	for (int i = 0; i < box->nshares; i++) {
		if (strcmp(box->shares[i].tag, pool->shares[i].tag))
			return differ(why, why_size, "another share layout");
	}
	/* a bundle's root (boxvm-runtime) is served as the host may edit it (cache=auto), an image's as it may not */
	if (box->rootfs_host_edits != pool->rootfs_host_edits)
		return differ(why, why_size, box->rootfs_host_edits ? "a root the host edits (another cache mode)"
								    : "a root only the box edits (another cache mode)");
	if (box->hold_main)
		return differ(why, why_size, "a held main");
	why[0] = '\0';
	return true;
}
