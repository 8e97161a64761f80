/* Which boxes a warm-pool VM serves (bx_pool_fits), and the CLAIM message
 * that carries one to it (bx_claim_encode / bx_claim_split). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/msg.h"
#include "vm/pool_fit.h"

static struct bx_vmspec pool, box;

static void machines(void)
{
	memset(&pool, 0, sizeof(pool));
	memset(&box, 0, sizeof(box));
	snprintf(box.accel, sizeof(box.accel), "tcg");
	snprintf(box.kernel, sizeof(box.kernel), "/k/vmlinuz");
	snprintf(box.cmdline, sizeof(box.cmdline), "console=ttyS0 quiet");
	snprintf(box.libexec, sizeof(box.libexec), "/usr/libexec/boxvm");
	box.mem_mb = 512;
	box.cpus = 2;
	box.network = true;
	pool = box;
	pool.nshares = 2;
	snprintf(pool.shares[0].tag, sizeof(pool.shares[0].tag), "m0");
	snprintf(pool.shares[1].tag, sizeof(pool.shares[1].tag), "m1");
	snprintf(pool.cmdline, sizeof(pool.cmdline), "console=ttyS0 quiet " BX_POOL_CMDLINE_WORD);
}

static void fits(void)
{
	char why[128];
	assert_true(bx_pool_fits(&pool, &box, why, sizeof(why)));
	assert_string_equal(why, "");
}

static void misfit(const char *want)
{
	char why[128];
	assert_false(bx_pool_fits(&pool, &box, why, sizeof(why)));
	assert_non_null(strstr(why, want));
	machines();
}

static void same_machine_fits(void **state)
{
	machines();
	fits();
	/* what the box's spec carries (env, user, limits in the guest, a
	 * read-only root) is sent at claim time: still fits */
	box.rootfs_ro = true;
	box.auto_remove = true;
	box.tty = true;
	box.nano_cpus = 500000000;
	box.nports = 2; /* passt starts at the claim, with them */
	fits();
	box.nshares = 2; /* directories onto the spare shares of their tags */
	snprintf(box.shares[0].tag, sizeof(box.shares[0].tag), "m0");
	snprintf(box.shares[1].tag, sizeof(box.shares[1].tag), "m1");
	fits();
}

static void another_machine_does_not(void **state)
{
	machines();
	box.mem_mb = 640;
	misfit("memory");
	box.cpus = 1;
	misfit("vCPU");
	box.network = false;
	misfit("network mode");
	snprintf(box.accel, sizeof(box.accel), "kvm");
	misfit("accelerator");
	snprintf(box.kernel, sizeof(box.kernel), "/k/other");
	misfit("kernel");
	snprintf(box.cmdline, sizeof(box.cmdline), "console=ttyS0 quiet boxvm.debug=1");
	misfit("command line");
	/* the pool VM's own word missing: not a pool VM of this box's line */
	snprintf(pool.cmdline, sizeof(pool.cmdline), "console=ttyS0 quiet");
	misfit("command line");
	snprintf(box.libexec, sizeof(box.libexec), "/opt/boxvm");
	misfit("helpers");
}

static void what_exists_from_the_boot_does_not(void **state)
{
	machines();
	/* a pod's ports: passt and the listeners start at the claim, in the claimer's namespace */
	box.all_ports = true;
	fits();
	box.nnets = 1;
	misfit("named networks");
	box.nshares = 3;
	misfit("more bind mounts");
	/* a file bind mount is staged in the spare share at the claim, as at a cold boot */
	box.nshares = 1;
	snprintf(box.shares[0].tag, sizeof(box.shares[0].tag), "m0");
	box.shares[0].file = true;
	fits();
	machines();
	/* the root's cache mode is the pool VM's from its boot: a bundle's root
	 * (boxvm-runtime) needs a pool VM made for it, an image's one that is not */
	box.rootfs_host_edits = true;
	misfit("host edits");
	pool.rootfs_host_edits = box.rootfs_host_edits = true;
	fits();
	box.rootfs_host_edits = false;
	misfit("only the box edits");
	box.hold_main = true;
	misfit("held main");
}

static void claim_round_trip(void **state)
{
	struct bx_err err = {0};
	uint8_t *p;
	size_t len;
	const uint8_t spec[] = {1, 2, 3, 4, 5};
	assert_int_equal(bx_claim_encode("dns 10.0.0.1\n", 13, spec, sizeof(spec), &p, &len, &err), 0);
	assert_int_equal(len, 4 + 13 + sizeof(spec));
	const char *net;
	const uint8_t *sp;
	size_t nl, sl;
	assert_int_equal(bx_claim_split(p, len, &net, &nl, &sp, &sl, &err), 0);
	assert_int_equal(nl, 13);
	assert_memory_equal(net, "dns 10.0.0.1\n", 13);
	assert_int_equal(sl, sizeof(spec));
	assert_memory_equal(sp, spec, sizeof(spec));
	/* a length beyond the message, or no room for one: refused, nothing read past len */
	p[0] = 0xff;
	assert_int_equal(bx_claim_split(p, len, &net, &nl, &sp, &sl, &err), -1);
	assert_int_equal(bx_claim_split(p, 3, &net, &nl, &sp, &sl, &err), -1);
	free(p);
	/* empty parts are fine (no networks) */
	assert_int_equal(bx_claim_encode("", 0, spec, sizeof(spec), &p, &len, &err), 0);
	assert_int_equal(bx_claim_split(p, len, &net, &nl, &sp, &sl, &err), 0);
	assert_int_equal(nl, 0);
	free(p);
	/* too large for a message */
	uint8_t *big = calloc(1, BX_MSG_MAX);
	assert_non_null(big);
	assert_int_equal(bx_claim_encode("", 0, big, BX_MSG_MAX, &p, &len, &err), -1);
	free(big);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(same_machine_fits),
		cmocka_unit_test(another_machine_does_not),
		cmocka_unit_test(what_exists_from_the_boot_does_not),
		cmocka_unit_test(claim_round_trip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
