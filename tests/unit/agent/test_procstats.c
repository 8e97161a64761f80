/* The agent's /proc parsing for boxvm stats (src/agent/pure/procstats.c),
 * on text captured from real kernels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pure/procstats.h"

static void test_meminfo(void **state)
{
	const char *t = "MemTotal:         493220 kB\n"
			"MemFree:          430000 kB\n"
			"MemAvailable:     441876 kB\n"
			"Buffers:               0 kB\n"
			"Cached:            20000 kB\n"
			"HugePages_Total:       0\n";
	uint64_t total = 0, avail = 0;
	assert_int_equal(bx_meminfo_parse(t, &total, &avail), 0);
	assert_int_equal(total, 493220ull * 1024);
	assert_int_equal(avail, 441876ull * 1024);
}

static void test_meminfo_without_available(void **state)
{
	/* kernels before 3.14: free + buffers + cached */
	const char *t = "MemTotal:  1000 kB\nMemFree:  100 kB\nBuffers:  20 kB\nCached:  30 kB\nSwapCached: 5 kB\n";
	uint64_t total = 0, avail = 0;
	assert_int_equal(bx_meminfo_parse(t, &total, &avail), 0);
	assert_int_equal(total, 1000ull * 1024);
	assert_int_equal(avail, 150ull * 1024); /* SwapCached is not Cached */
}

static void test_meminfo_missing_total(void **state)
{
	uint64_t total = 0, avail = 0;
	assert_int_equal(bx_meminfo_parse("MemFree: 1 kB\n", &total, &avail), -1);
	assert_int_equal(bx_meminfo_parse("", &total, &avail), -1);
	/* "MemTotalX" is another key */
	assert_int_equal(bx_meminfo_parse("MemTotalX: 5 kB\n", &total, &avail), -1);
}

static void test_netdev_skips_loopback(void **state)
{
	const char *t =
		"Inter-|   Receive                                                |  Transmit\n"
		" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
		"    lo:  999999      10    0    0    0     0          0         0   999999      10    0    0    0     0       0          0\n"
		"  eth0:    1200      12    0    0    0     0          0         0      648       8    0    0    0     0       0          0\n"
		"  eth1:     100       1    0    0    0     0          0         0       2        1    0    0    0     0       0          0\n";
	uint64_t rx = 1, tx = 1;
	bx_netdev_parse(t, &rx, &tx);
	assert_int_equal(rx, 1300);
	assert_int_equal(tx, 650);
}

static void test_netdev_old_format_and_empty(void **state)
{
	/* 2.6 kernels: no blank after the colon; "lo" only as a whole name */
	const char *t = "h1\nh2\n  eth0:5000 1 0 0 0 0 0 0 70 1 0 0 0 0 0 0\n  lo0:1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n";
	uint64_t rx, tx;
	bx_netdev_parse(t, &rx, &tx);
	assert_int_equal(rx, 5001);
	assert_int_equal(tx, 71);
	bx_netdev_parse("", &rx, &tx);
	assert_int_equal(rx, 0);
	assert_int_equal(tx, 0);
	/* a truncated line counts nothing rather than garbage */
	bx_netdev_parse("  eth0: 10 20 30\n", &rx, &tx);
	assert_int_equal(rx, 0);
}

static void test_diskstats_whole_disks_only(void **state)
{
	const char *t = "   7       0 loop0 100 0 800 0 0 0 0 0 0 0 0\n"
			" 254       0 vda 10 0 8 5 20 0 16 3 0 9 9\n"
			" 254       1 vda1 10 0 6 5 20 0 14 3 0 9 9\n"
			" 259       0 nvme0n1 1 0 2 0 1 0 4 0 0 0 0\n"
			" 259       1 nvme0n1p1 1 0 2 0 1 0 4 0 0 0 0\n"
			" 259       2 nvme0n10 1 0 100 0 1 0 200 0 0 0 0\n"
			"   1       0 ram0 1 0 50 0 1 0 50 0 0 0 0\n";
	uint64_t rd = 0, wr = 0;
	bx_diskstats_parse(t, &rd, &wr);
	/* vda + nvme0n1 + nvme0n10 (another disk, not a partition) */
	assert_int_equal(rd, (8 + 2 + 100) * 512ull);
	assert_int_equal(wr, (16 + 4 + 200) * 512ull);
}

static void test_diskstats_none(void **state)
{
	/* a virtiofs-rooted guest: no block devices at all */
	uint64_t rd = 1, wr = 1;
	bx_diskstats_parse("", &rd, &wr);
	assert_int_equal(rd, 0);
	assert_int_equal(wr, 0);
}

static void test_stat_cpu(void **state)
{
	const char *t = "cpu  100 20 30 5000 40 5 6 7 50 0\n"
			"cpu0 50 10 15 2500 20 2 3 3 25 0\n"
			"intr 12345\n";
	uint64_t ns = 0;
	/* user nice system irq softirq steal; idle and iowait are not busy; guest is inside user */
	assert_int_equal(bx_stat_cpu_parse(t, 100, &ns), 0);
	assert_int_equal(ns, (100 + 20 + 30 + 5 + 6 + 7) * 10000000ull);
	assert_int_equal(bx_stat_cpu_parse(t, 300, &ns), 0);
	assert_int_equal(ns, 168ull * 1000000000ull / 300);
	assert_int_equal(bx_stat_cpu_parse("cpu0 1 2 3 4\n", 100, &ns), -1);
	assert_int_equal(bx_stat_cpu_parse("cpu  1 2\n", 100, &ns), -1);
	assert_int_equal(bx_stat_cpu_parse(t, 0, &ns), -1);
}

static void test_pidstat(void **state)
{
	long ppid = 0, threads = 0;
	const char *t = "42 (sh) S 1 42 42 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 3 0 1234 1000 100 18446744073709551615\n";
	assert_int_equal(bx_pidstat_parse(t, &ppid, &threads), 0);
	assert_int_equal(ppid, 1);
	assert_int_equal(threads, 3);
	/* comm with spaces and parentheses */
	const char *k = "7 (kworker/0:1 (x) y) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0 0\n";
	assert_int_equal(bx_pidstat_parse(k, &ppid, &threads), 0);
	assert_int_equal(ppid, 2);
	assert_int_equal(threads, 1);
	assert_int_equal(bx_pidstat_parse("42 (sh) S 1 42\n", &ppid, &threads), -1);
	assert_int_equal(bx_pidstat_parse("garbage", &ppid, &threads), -1);
	assert_int_equal(bx_pidstat_parse("", &ppid, &threads), -1);
}

static void test_is_pid_name(void **state)
{
	assert_true(bx_proc_is_pid_name("1"));
	assert_true(bx_proc_is_pid_name("4096"));
	assert_false(bx_proc_is_pid_name(""));
	assert_false(bx_proc_is_pid_name("self"));
	assert_false(bx_proc_is_pid_name("12a"));
}

static void test_interrupts_local_timer(void **state)
{
	/* a guest whose local APIC timer runs, and one whose kernel turned it off */
	const char *ticking = "           CPU0       CPU1       \n"
			      "  4:         12          0   IO-APIC    4-edge      ttyS0\n"
			      "NMI:          0          0   Non-maskable interrupts\n"
			      "LOC:        853        211   Local timer interrupts\n"
			      "SPU:          0          0   Spurious interrupts\n";
	const char *silent = "           CPU0       CPU1       \n"
			     "LOC:          0          0   Local timer interrupts\n";
	uint64_t n = 7;
	assert_int_equal(bx_interrupts_local_timer(ticking, &n), 0);
	assert_int_equal(n, 1064);
	assert_int_equal(bx_interrupts_local_timer(silent, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(bx_interrupts_local_timer("           CPU0\n  0:  5  XT-PIC timer\n", &n), -1);
	assert_int_equal(bx_interrupts_local_timer("", &n), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_meminfo_without_available),
		cmocka_unit_test(test_meminfo_missing_total),
		cmocka_unit_test(test_netdev_skips_loopback),
		cmocka_unit_test(test_netdev_old_format_and_empty),
		cmocka_unit_test(test_diskstats_whole_disks_only),
		cmocka_unit_test(test_diskstats_none),
		cmocka_unit_test(test_stat_cpu),
		cmocka_unit_test(test_pidstat),
		cmocka_unit_test(test_is_pid_name),
		cmocka_unit_test(test_interrupts_local_timer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
