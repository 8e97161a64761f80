/* The OOM killer's reports in /dev/kmsg records (src/agent/pure/kmsg.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pure/kmsg.h"

static int pid_of(const char *rec)
{
	return bx_kmsg_oom_pid(rec, strlen(rec));
}

static void finds_the_oom_killers_reports(void **state)
{
	assert_int_equal(pid_of("3,812,5323465,-;Out of memory: Killed process 231 (tail) total-vm:110480kB, "
				"anon-rss:101860kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:252kB oom_score_adj:0\n"),
			 231);
	assert_int_equal(pid_of("3,900,1,-;Memory cgroup out of memory: Killed process 77 (a b) total-vm:1kB\n"
				" SUBSYSTEM=memory\n"),
			 77);
}

static void ignores_everything_else(void **state)
{
	static const char *const other[] = {
		"6,1,2,-;virtio_net virtio2 eth1: renamed\n",
		"4,2,3,-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),task=tail,pid=231,uid=0\n",
		/* written by a process (LOG_USER): not the kernel's */
		"11,3,4,-;Out of memory: Killed process 1 (init) total-vm:1kB\n",
		"14,3,4,-;Out of memory: Killed process 1 (init) total-vm:1kB\n",
		"3,3,4,-;Out of memory: Killed process x (init)\n",
		"3,3,4,-;Out of memory: Killed process 0 (init) \n",
		"3,3,4,-;Out of memory: Killed process 99999999 (x) \n",
		"3,3,4,-;Out of memory: Killed process 12",
		"no header at all",
		"",
		"3,3,4,-\n",
		NULL,
	};
	for (int i = 0; other[i]; i++)
		assert_int_equal(pid_of(other[i]), -1);
	char big[4096];
	memset(big, 'x', sizeof(big));
	assert_int_equal(bx_kmsg_oom_pid(big, sizeof(big)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(finds_the_oom_killers_reports),
		cmocka_unit_test(ignores_everything_else),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
