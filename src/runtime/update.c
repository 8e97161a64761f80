/* boxvm-runtime update [-r resources.json] [--memory N] [--memory-reservation N]
 * [--cpu-period N --cpu-quota N] [--cpu-share N] [--cpuset-cpus LIST]
 * [--pids-limit N] ID: runc's update, onto the box function `boxvm update`
 * uses (bx_box_update_record): a running container's memory through the
 * balloon, its CPU quota, shares and CPUs in the VM's host cgroup, its pids
 * limit in the guest's cgroup; the values also hold at its next boot. The
 * resources file is the OCI LinuxResources object (memory.limit,
 * memory.reservation, cpu.quota/period/shares/cpus, pids.limit); a flag
 * wins over the file, as runc's. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../box/update.h"
#include "../store/state.h"
#include "../vm/vmspec.h"
#include "rt.h"

/* A whole number of a flag (runc takes plain integers). */
static int number(const char *flag, const char *v, long long *out)
{
	char *end;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (!*v || *end || errno) {
		rt_error("invalid value for --%s: %s", flag, v);
		return -1;
	}
	return 0;
}

/* The OCI LinuxResources file: what it sets, into u (quota/period apart). */
static int resources_file(const char *path, struct bx_update *u, long long *quota, long long *period)
{
	json_error_t je;
	json_t *o = strcmp(path, "-") ? json_load_file(path, 0, &je) : json_loadf(stdin, 0, &je);
	if (!json_is_object(o)) {
		rt_error("decoding resources %s: %s", path, o ? "not a JSON object" : je.text);
		json_decref(o);
		return -1;
	}
	json_t *mem = json_object_get(o, "memory"), *cpu = json_object_get(o, "cpu"), *pids = json_object_get(o, "pids");
	json_t *v;
	if (json_is_integer(v = json_object_get(mem, "limit")) && json_integer_value(v) > 0)
		u->memory_set = true, u->memory = json_integer_value(v);
	if (json_is_integer(v = json_object_get(mem, "reservation")) && json_integer_value(v) > 0)
		u->reservation_set = true, u->reservation = json_integer_value(v);
	if (json_is_integer(v = json_object_get(cpu, "shares")) && json_integer_value(v) > 0)
		u->shares_set = true, u->cpu_shares = json_integer_value(v);
	if (json_is_integer(v = json_object_get(cpu, "quota")))
		*quota = json_integer_value(v);
	if (json_is_integer(v = json_object_get(cpu, "period")))
		*period = json_integer_value(v);
	if (json_is_string(v = json_object_get(cpu, "cpus")) && *json_string_value(v)) {
		u->cpuset_set = true;
		snprintf(u->cpuset, sizeof(u->cpuset), "%s", json_string_value(v));
	}
	if (json_is_integer(v = json_object_get(pids, "limit")) && json_integer_value(v) != 0)
		u->pids_set = true, u->pids_limit = json_integer_value(v);
	json_decref(o);
	return 0;
}

int rt_cmd_update(const struct rt_globals *g, int argc, char **argv)
{
	struct rt_opt o[] = {
		{"resources", 'r', true, NULL},   {"memory", 0, true, NULL},      {"memory-reservation", 0, true, NULL},
		{"cpu-period", 0, true, NULL},    {"cpu-quota", 0, true, NULL},   {"cpu-share", 0, true, NULL},
		{"cpuset-cpus", 0, true, NULL},   {"pids-limit", 0, true, NULL},
	};
	const size_t no = sizeof(o) / sizeof(o[0]);
	char *pos[1];
	int npos = rt_opts_parse("update", argc, argv, o, no, pos, 1);
	if (npos < 0)
		return 1;
	if (npos < 1) {
		rt_error("update: requires the container ID");
		return 1;
	}
	struct bx_update u = {0};
	long long quota = 0, period = 0, v;
	const char *s;
	if ((s = rt_opt_get(o, no, "resources")) && resources_file(s, &u, &quota, &period) < 0)
		return 1;
	struct bx_err err = {0};
	if ((s = rt_opt_get(o, no, "memory"))) {
		if (bx_update_parse_bytes("--memory", s, &u.memory, &err) < 0)
			goto fail;
		u.memory_set = true;
	}
	if ((s = rt_opt_get(o, no, "memory-reservation"))) {
		if (bx_update_parse_bytes("--memory-reservation", s, &u.reservation, &err) < 0)
			goto fail;
		u.reservation_set = true;
	}
	if ((s = rt_opt_get(o, no, "cpu-quota")) && number("cpu-quota", s, &quota) < 0)
		return 1;
	if ((s = rt_opt_get(o, no, "cpu-period")) && number("cpu-period", s, &period) < 0)
		return 1;
	if ((s = rt_opt_get(o, no, "cpu-share"))) {
		if (number("cpu-share", s, &v) < 0)
			return 1;
		u.shares_set = true, u.cpu_shares = v;
	}
	if ((s = rt_opt_get(o, no, "cpuset-cpus"))) {
		u.cpuset_set = true;
		snprintf(u.cpuset, sizeof(u.cpuset), "%s", s);
	}
	if ((s = rt_opt_get(o, no, "pids-limit"))) {
		if (number("pids-limit", s, &v) < 0)
			return 1;
		u.pids_set = true, u.pids_limit = v;
	}
	/* runc's quota over its period; -1 (or none) is no quota */
	if (quota || period) {
		u.cpus_set = true;
		if (period <= 0)
			period = BX_CFS_PERIOD_US;
		u.nano_cpus = quota > 0 ? quota * 1000000000LL / period : 0;
	}
	struct rt_container c;
	if (rt_container_load(g, pos[0], &c, &err) < 0)
		goto fail;
	enum rt_status st = rt_container_status(&c);
	int rc = 0;
	struct bx_box_record rec = {0};
	struct bx_vmspec *vm = calloc(1, sizeof(*vm));
	char vmjson[PATH_MAX];
	if (st == RT_STOPPED) {
		rt_error("container not running"); /* runc's: a stopped container has no cgroup to update */
		rc = 1;
	} else if (!vm || bx_path_join(vmjson, sizeof(vmjson), &err, "%s/vm.json", c.box_dir) < 0 ||
		   bx_vmspec_read(vmjson, vm, &err) < 0) {
		rt_error("%s", vm ? err.msg : "out of memory");
		rc = 1;
	} else {
		snprintf(rec.id, sizeof(rec.id), "%s", vm->id);
		snprintf(rec.name, sizeof(rec.name), "%.127s", c.id);
		snprintf(rec.box_dir, sizeof(rec.box_dir), "%s", c.box_dir);
		snprintf(rec.run_dir, sizeof(rec.run_dir), "%s", c.run_dir);
		rec.status = st == RT_RUNNING ? BX_BOX_RUNNING : st == RT_PAUSED ? BX_BOX_PAUSED : BX_BOX_CREATED;
		if (bx_box_update_record(&rec, &u, &err) < 0) {
			rt_error("%s", err.msg);
			rc = 1;
		}
	}
	free(vm);
	rt_container_free(&c);
	return rc;
fail:
	rt_error("%s", err.msg);
	return 1;
}
