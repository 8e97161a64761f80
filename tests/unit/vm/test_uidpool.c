/* Dynamic uids for QEMU (src/vm/uidpool.h): concurrent leases never share
 * an id, a released (or crashed) holder's id is reused, ids the user or
 * group database names are skipped; and the memory ceiling and /dev/kvm
 * group rules that go with the confinement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/cgroup.h"
#include "vm/uidpool.h"

static char dir[] = "/tmp/test_uidpool.XXXXXX";

static int setup(void **state)
{
	assert_non_null(mkdtemp(dir));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void leases_are_exclusive_and_reused(void **state)
{
	const uid_t base = 2063597568u;
	struct bx_uid_lease a, b, c;
	struct bx_err err;
	assert_int_equal(bx_uid_lease_take(dir, base, 3, &a, &err), 0);
	assert_int_equal(bx_uid_lease_take(dir, base, 3, &b, &err), 0);
	assert_int_equal(a.uid, base);
	assert_int_equal(b.uid, base + 1);
	/* another process (another box's shim) cannot take a held id */
	pid_t pid = fork();
	if (pid == 0) {
		struct bx_uid_lease l;
		_exit(bx_uid_lease_take(dir, base, 3, &l, NULL) == 0 && l.uid == base + 2 ? 0 : 1);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* that child is gone: its id is free again, the lowest free one first */
	bx_uid_lease_release(&a);
	assert_int_equal(bx_uid_lease_take(dir, base, 3, &c, &err), 0);
	assert_int_equal(c.uid, base);
	struct bx_uid_lease d;
	assert_int_equal(bx_uid_lease_take(dir, base, 3, &d, &err), 0);
	assert_int_equal(d.uid, base + 2);
	/* all taken */
	struct bx_uid_lease e;
	assert_int_equal(bx_uid_lease_take(dir, base, 3, &e, &err), -1);
	assert_non_null(strstr(err.msg, "in use"));
	bx_uid_lease_release(&b);
	bx_uid_lease_release(&c);
	bx_uid_lease_release(&d);
}

static void named_ids_are_skipped(void **state)
{
	/* uid 0 (root) and 1 (daemon) are in every passwd: never leased */
	struct bx_uid_lease l;
	struct bx_err err;
	assert_int_equal(bx_uid_lease_take(dir, 0, 2, &l, &err), -1);
}

static void memory_ceiling(void **state)
{
	assert_int_equal(bx_qemu_memory_ceiling(512, 0), (512ull + BX_QEMU_OVERHEAD_MB) << 20);
	assert_int_equal(bx_qemu_memory_ceiling(512, 1), (512ull + BX_QEMU_OVERHEAD_MB + BX_TCG_TB_MB) << 20);
}

static void kvm_group(void **state)
{
	gid_t g = 0;
	assert_int_equal(bx_kvm_group(S_IFCHR | 0660, 108, &g), 1); /* Debian: root:kvm 0660 */
	assert_int_equal(g, 108);
	assert_int_equal(bx_kvm_group(S_IFCHR | 0666, 108, &g), 0); /* everyone may */
	assert_int_equal(bx_kvm_group(S_IFCHR | 0660, 0, &g), -1);  /* never group root */
	assert_int_equal(bx_kvm_group(S_IFCHR | 0600, 108, &g), -1);
	assert_int_equal(bx_kvm_group(S_IFCHR | 0640, 108, &g), -1); /* read-only is not enough */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(leases_are_exclusive_and_reused),
		cmocka_unit_test(named_ids_are_skipped),
		cmocka_unit_test(memory_ceiling),
		cmocka_unit_test(kvm_group),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
