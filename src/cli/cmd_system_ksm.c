/* boxvm system ksm [on|off|status]: the host's KSM (kernel samepage
 * merging), which merges identical memory pages of the boxes' QEMU, passt
 * and virtiofsd processes (the shim marks them mergeable:
 * PR_SET_MEMORY_MERGE, src/shim/vm.c). KSM is a setting of the whole host
 * (/sys/kernel/mm/ksm/run), so boxvm never turns it on by itself: the
 * administrator does, with this command (root), and it stays on until
 * turned off or the host reboots. What it saves, measured with bench/density,
 * is in docs/ARCHITECTURE.md, "Guest memory". BOXVM_KSM_DIR names another
 * directory than /sys/kernel/mm/ksm (tests). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"

static const char *ksm_dir(void)
{
	const char *d = getenv("BOXVM_KSM_DIR");
	return d && *d ? d : "/sys/kernel/mm/ksm";
}

/* One number from a KSM file; -1 when it cannot be read. */
static long long ksm_read(const char *name)
{
	char path[512], buf[32];
	snprintf(path, sizeof(path), "%s/%s", ksm_dir(), name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *end;
	errno = 0;
	long long v = strtoll(buf, &end, 10);
	return errno || end == buf || v < 0 ? -1 : v;
}

static int ksm_set_run(int run, struct bx_err *err)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/run", ksm_dir());
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return bx_fail(err, 0, "this kernel has no KSM (%s is missing: CONFIG_KSM)", path);
		return bx_fail(err, errno, "cannot turn KSM %s: %s%s", run ? "on" : "off", path,
			       errno == EACCES || errno == EPERM ? " (a host setting: needs root)" : "");
	}
	int rc = 0;
	if (write(fd, run ? "1\n" : "0\n", 2) != 2)
		rc = bx_fail(err, errno, "cannot turn KSM %s: %s", run ? "on" : "off", path);
	close(fd);
	return rc;
}

static int ksm_status(struct bx_err *err)
{
	long long run = ksm_read("run");
	if (run < 0)
		return bx_fail(err, 0, "this kernel has no KSM (%s/run cannot be read: CONFIG_KSM)", ksm_dir());
	long long shared = ksm_read("pages_shared"), sharing = ksm_read("pages_sharing");
	long long zero = ksm_read("ksm_zero_pages"), scans = ksm_read("full_scans");
	long page = sysconf(_SC_PAGESIZE);
	printf("KSM: %s\n", run == 1 ? "on" : run == 2 ? "off (unmerged)" : "off");
	if (shared >= 0 && sharing >= 0)
		/* pages_sharing counts the pages merged into the pages_shared ones: the memory saved */
		printf("Pages shared: %lld, sharing them: %lld (saving %.1f MiB)\n", shared, sharing,
		       (double)sharing * (double)page / 1048576.0);
	if (zero > 0)
		printf("Zero pages merged: %lld (saving %.1f MiB)\n", zero, (double)zero * (double)page / 1048576.0);
	if (scans >= 0)
		printf("Full scans: %lld\n", scans);
	return 0;
}

int cmd_system_ksm(int argc, char **argv)
{
	static const char usage[] = "boxvm system ksm [on|off|status]";
	struct bx_err err = {0};
	struct bx_args a;
	const struct bx_opt opts[] = {BX_OPT_HELP, BX_OPT_END};
	int r = cli_flags(&a, argc, argv, opts, usage,
			  "Turn the host's kernel samepage merging on or off (root), or show it (default: status).\n"
			  "With KSM on, identical pages of the boxes' QEMU, passt and virtiofsd processes are merged.",
			  &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 0, 1, usage, &err) < 0)
		return bx_cli_report(&err);
	const char *what = a.i < a.argc ? a.argv[a.i] : "status";
	if (!strcmp(what, "on") || !strcmp(what, "off")) {
		if (ksm_set_run(!strcmp(what, "on"), &err) < 0)
			return bx_cli_report(&err);
	} else if (strcmp(what, "status")) {
		bx_fail(&err, 0, "'%s': expected on, off or status", what);
		return bx_cli_report(&err);
	}
	return ksm_status(&err) < 0 ? bx_cli_report(&err) : 0;
}
