/* boxvm update [OPTIONS] BOX...: Docker's update (the work:
 * bx_box_update, src/box/update.c): memory through the balloon of a running
 * box, CPUs through its VM's host cgroup, the restart policy; each box's
 * name as given is printed once it is updated. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../box/update.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"

#define USAGE "boxvm update [OPTIONS] BOX [BOX...]"

static int update_one(const struct bx_paths *p, const char *ref, struct bx_box_record *rec, void *ctx,
		      struct bx_err *err)
{
	return bx_box_update(p, rec->id, ctx, err);
}

/* A value that does not parse: Docker's client rejects it (exit 125). */
static int bad_flag(struct bx_err *err)
{
	err->exit_code = CLI_EXIT_BAD_FLAG;
	return bx_cli_report(err);
}

int cmd_update(int argc, char **argv)
{
	struct bx_err err = {0};
	struct bx_args a;
	const char *memory = NULL, *reservation = NULL, *cpus = NULL, *shares = NULL, *cpuset = NULL, *pids = NULL,
		   *restart = NULL;
	const struct bx_opt opts[] = {
		{'m', "memory", "bytes", 0, "Memory limit (a running box: down to its reservation through the balloon, "
					    "never above its boot size)", .str = &memory},
		{0, "memory-reservation", "bytes", 0, "Memory soft limit", .str = &reservation},
		{0, "cpus", "decimal", 0, "Number of CPUs (a quota of the VM's host cgroup; the vCPU count stays)",
		 .str = &cpus},
		{'c', "cpu-shares", "int", 0, "CPU shares (relative weight)", .str = &shares},
		{0, "cpuset-cpus", "string", 0, "CPUs in which to allow execution (0-3, 0,1)", .str = &cpuset},
		{0, "pids-limit", "int", 0, "Tune the box's pids limit (-1: unlimited; a stopped box)", .str = &pids},
		{0, "restart", "string", 0, "Restart policy to apply when a box exits", .str = &restart},
		BX_OPT_HELP,
		BX_OPT_END,
	};
	int r = cli_flags(&a, argc, argv, opts, USAGE, "Update configuration of one or more boxes.", &err);
	if (r <= 0)
		return r < 0 ? bx_cli_report(&err) : 0;
	if (cli_need_operands(&a, 1, -1, USAGE, &err) < 0)
		return bx_cli_report(&err);
	struct bx_update u = {0};
	char *end;
	if (memory && (u.memory_set = true) && bx_update_parse_bytes("--memory", memory, &u.memory, &err) < 0)
		return bad_flag(&err);
	if (reservation && (u.reservation_set = true) &&
	    bx_update_parse_bytes("--memory-reservation", reservation, &u.reservation, &err) < 0)
		return bad_flag(&err);
	if (cpus && (u.cpus_set = true) && bx_cpus_parse(cpus, (int)sysconf(_SC_NPROCESSORS_ONLN), &u.nano_cpus, &err) < 0)
		return strstr(err.msg, "invalid argument") ? bad_flag(&err) : bx_cli_report(&err);
	if (shares) {
		u.shares_set = true;
		u.cpu_shares = strtoll(shares, &end, 10);
		if (!*shares || *end) {
			bx_fail(&err, 0, "invalid argument \"%.60s\" for \"-c, --cpu-shares\" flag: use a whole number", shares);
			return bad_flag(&err);
		}
	}
	if (cpuset) {
		u.cpuset_set = true;
		if (snprintf(u.cpuset, sizeof(u.cpuset), "%s", cpuset) >= (int)sizeof(u.cpuset)) {
			bx_fail(&err, 0, "Invalid value %.60s... for cpuset cpus: too long", cpuset);
			return bx_cli_report(&err);
		}
	}
	if (pids) {
		u.pids_set = true;
		u.pids_limit = strtoll(pids, &end, 10);
		if (!*pids || *end) {
			bx_fail(&err, 0, "invalid argument \"%.60s\" for \"--pids-limit\" flag: use a whole number", pids);
			return bad_flag(&err);
		}
	}
	if (restart && (u.restart_set = true) && bx_restart_policy_parse(restart, &u.restart, &err) < 0)
		return bx_cli_report(&err);
	if (!memory && !reservation && !cpus && !shares && !cpuset && !pids && !restart) {
		bx_fail(&err, 0, "you must provide one or more flags when using this command");
		return bx_cli_report(&err);
	}
	return cli_each_box(a.i, argc, argv, update_one, &u);
}
