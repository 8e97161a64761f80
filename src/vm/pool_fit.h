/* Which boxes a warm-pool VM can serve (docs/ARCHITECTURE.md, "Warm pool"). */
#ifndef BOXVM_POOL_FIT_H
#define BOXVM_POOL_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "vmspec.h"

/* The word a pool VM's kernel command line carries beyond its boxes' own
 * (the agent then waits for a CLAIM instead of reading /boxvm/spec). */
#define BX_POOL_CMDLINE_WORD "boxvm.pool=1"

/* Pure: whether the box whose VM would be `box` can be served by the pool VM
 * booted from `pool`: the same machine (accelerator, kernel, command line,
 * helpers, memory, vCPUs, network mode, the root's cache mode) and nothing
 * the VM would have needed at boot (named networks, more shares than its
 * spares, a held main; published ports and a pod's are passt's, started at
 * the claim in the claimer's network namespace, and directories and files
 * go onto its spare shares).
 * false with the first difference in why. */
bool bx_pool_fits(const struct bx_vmspec *pool, const struct bx_vmspec *box, char *why, size_t why_size);

#endif
