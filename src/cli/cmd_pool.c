/* boxvm pool set|ls|fill|drain: the warm pool of pre-booted VMs that `run`
 * and `start` claim for boxes that fit (src/box/pool.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../box/pool.h"
#include "../box/resources.h"
#include "args.h"
#include "cli.h"

enum { OPT_MEMORY, OPT_CPUS, OPT_NETWORK, OPT_RUNTIME, OPT_SHARES, OPT_QUIET, OPT_HELP };
static const struct bx_opt set_opts[] = {
	{'m', "memory", "bytes", OPT_MEMORY, "The boxes' memory limit, as `run -m` (default: none, a 512 MiB VM)"},
	{0, "cpus", "number", OPT_CPUS, "The boxes' --cpus, as `run --cpus` (default: 2 vCPUs)"},
	{0, "network", "mode", OPT_NETWORK, "default (passt) or none, as `run --network`"},
	{0, "runtime", NULL, OPT_RUNTIME, "For boxvm-runtime's containers (a bundle's root, which the host may edit)"},
	{0, "shares", "number", OPT_SHARES, "Bind mounts and volumes a box may have (default: 2; with --runtime 6)"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};
static const struct bx_opt plain_opts[] = {
	{'q', "quiet", NULL, OPT_QUIET, "Print nothing"},
	{'h', "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

static void usage(void)
{
	bx_args_usage("boxvm pool COMMAND [OPTIONS]",
		      "Manage the warm pool: VMs booted ahead of time, each given to one box that fits\n"
		      "(same memory, CPUs and network mode, no more bind mounts and volumes than its\n"
		      "shares, no named network), never reused.\n\n"
		      "Commands:\n"
		      "  set [-m BYTES] [--cpus N] [--network default|none] [--runtime] [--shares N] SIZE\n"
		      "                  Keep SIZE VMs ready for boxes run with those flags (0: none);\n"
		      "                  --runtime: for boxvm-runtime's containers (memory and CPUs from\n"
		      "                  their config.json; default 512 MiB and 2, as for run)\n"
		      "  ls              Show the profiles and the VMs (ready or booting)\n"
		      "  fill            Boot what is missing, remove what is dead (done after each claim)\n"
		      "  drain           Stop every pool VM and keep none from now on",
		      NULL);
}

static int pool_set(const struct bx_paths *p, int argc, char **argv, struct bx_err *err)
{
	struct bx_args a;
	int id, r;
	const char *val;
	struct bx_resources res = {0};
	struct bx_pool_profile prof = {.mem_mb = 512, .cpus = 2, .network = true, .shares = -1};
	bx_args_init(&a, argc, argv);
	a.i = 1;
	while ((r = bx_args_next(&a, set_opts, &id, &val, err)) > 0) {
		if (id == OPT_HELP) {
			usage();
			return 0;
		}
		if (id == OPT_MEMORY && bx_resources_flag(&res, "memory", val, err) < 0)
			return -1;
		if (id == OPT_CPUS) {
			char *end;
			double c = strtod(val, &end);
			if (*end || !(c > 0) || c > BX_RES_MAX_CPUS)
				return bx_fail(err, 0, "invalid --cpus '%s': a number above 0, at most %d", val,
					       BX_RES_MAX_CPUS);
			prof.cpus = (int)ceil(c);
		}
		if (id == OPT_NETWORK) {
			if (strcmp(val, "none") && strcmp(val, "default") && strcmp(val, "bridge"))
				return bx_fail(err, 0, "invalid --network '%s': the pool keeps default or none", val);
			prof.network = strcmp(val, "none") != 0;
		}
		if (id == OPT_RUNTIME)
			prof.runtime = true;
		if (id == OPT_SHARES) {
			char *end;
			long n = strtol(val, &end, 10);
			if (*end || end == val || n < 0 || n > BX_POOL_MAX_SPARE_SHARES)
				return bx_fail(err, 0, "invalid --shares '%s': a number from 0 to %d", val,
					       BX_POOL_MAX_SPARE_SHARES);
			prof.shares = (int)n;
		}
	}
	if (prof.shares < 0)
		prof.shares = prof.runtime ? BX_POOL_RUNTIME_SPARE_SHARES : BX_POOL_SPARE_SHARES;
	if (r < 0 || cli_need_operands(&a, 1, 1, "boxvm pool set [OPTIONS] SIZE", err) < 0)
		return -1;
	char *end;
	long size = strtol(argv[a.i], &end, 10);
	if (*end || end == argv[a.i] || size < 0 || size > BX_POOL_MAX_SIZE)
		return bx_fail(err, 0, "invalid pool size '%s': a number from 0 to %d", argv[a.i], BX_POOL_MAX_SIZE);
	if (bx_resources_vm_mb(&res))
		prof.mem_mb = bx_resources_vm_mb(&res);
	prof.size = (int)size;
	int booted;
	if (bx_pool_config_set(p, &prof, err) < 0 || bx_pool_fill(p, &booted, err) < 0)
		return -1;
	return 0;
}

static int pool_ls(const struct bx_paths *p, struct bx_err *err)
{
	struct bx_pool_config c;
	struct bx_pool_vm *vms;
	int n;
	if (bx_pool_config_read(p, &c, err) < 0 || bx_pool_list(p, &vms, &n, err) < 0)
		return -1;
	printf("%-10s %-5s %-8s %-8s %-7s %-5s %-6s %s\n", "MEMORY", "CPUS", "NETWORK", "FOR", "SHARES", "SIZE", "READY",
	       "BOOTING");
	int orphans = 0;
	for (int j = 0; j < n; j++)
		orphans += vms[j].shim_pid && vms[j].orphaned;
	for (int i = 0; i < c.n; i++) {
		int ready = 0, booting = 0;
		for (int j = 0; j < n; j++) {
			if (!vms[j].shim_pid || vms[j].orphaned || !bx_pool_profile_same(&vms[j].profile, &c.p[i]))
				continue;
			if (vms[j].ready)
				ready++;
			else
				booting++;
		}
		char mem[16];
		snprintf(mem, sizeof(mem), "%dMiB", c.p[i].mem_mb);
		printf("%-10s %-5d %-8s %-8s %-7d %-5d %-6d %d\n", mem, c.p[i].cpus, c.p[i].network ? "default" : "none",
		       c.p[i].runtime ? "runtime" : "run", c.p[i].shares, c.p[i].size, ready, booting);
	}
	free(vms);
	if (orphans)
		printf("%d VM%s won by a start that died before using %s (pool fill stops and replaces %s)\n", orphans,
		       orphans == 1 ? "" : "s", orphans == 1 ? "it" : "them", orphans == 1 ? "it" : "them");
	static const struct {
		const char *file, *what;
	} notes[] = {{"fill.err", "the last refill failed"}, {"claim.err", "the last claim was refused"}};
	for (size_t i = 0; i < sizeof(notes) / sizeof(notes[0]); i++) {
		char path[PATH_MAX];
		char *text = NULL;
		size_t len;
		if (bx_path_join(path, sizeof(path), NULL, "%s/pool/%s", p->data, notes[i].file) == 0 &&
		    bx_read_file(path, &text, &len, NULL) == 0 && len)
			printf("%s: %.*s\n", notes[i].what, (int)len, text);
		free(text);
	}
	return 0;
}

int cmd_pool(int argc, char **argv)
{
	struct bx_err err = {0};
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage();
		return 0;
	}
	const char *sub = argv[1];
	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	if (!strcmp(sub, "set"))
		return pool_set(&p, argc - 1, argv + 1, &err) < 0 ? bx_cli_report(&err) : 0;
	if (strcmp(sub, "ls") && strcmp(sub, "list") && strcmp(sub, "fill") && strcmp(sub, "drain")) {
		bx_fail(&err, 0, "unknown pool command '%s' (see boxvm pool --help)", sub);
		return bx_cli_report(&err);
	}
	struct bx_args a;
	int id, r;
	const char *val;
	bool quiet = false;
	bx_args_init(&a, argc - 1, argv + 1);
	a.i = 1;
	while ((r = bx_args_next(&a, plain_opts, &id, &val, &err)) > 0) {
		if (id == OPT_HELP) {
			usage();
			return 0;
		}
		quiet |= id == OPT_QUIET;
	}
	if (r < 0 || cli_need_operands(&a, 0, 0, "boxvm pool ls|fill|drain", &err) < 0)
		return bx_cli_report(&err);
	int count;
	if (!strcmp(sub, "fill")) {
		if (bx_pool_fill(&p, &count, &err) < 0)
			return bx_cli_report(&err);
		if (!quiet)
			printf("%d VM%s booting\n", count, count == 1 ? "" : "s");
		return 0;
	}
	if (!strcmp(sub, "drain")) {
		struct bx_pool_config c;
		if (bx_pool_config_read(&p, &c, &err) < 0)
			return bx_cli_report(&err);
		for (int i = 0; i < c.n; i++) {
			c.p[i].size = 0;
			if (bx_pool_config_set(&p, &c.p[i], &err) < 0)
				return bx_cli_report(&err);
		}
		if (bx_pool_drain(&p, &count, &err) < 0)
			return bx_cli_report(&err);
		if (!quiet)
			printf("%d VM%s stopped\n", count, count == 1 ? "" : "s");
		return 0;
	}
	return pool_ls(&p, &err) < 0 ? bx_cli_report(&err) : 0;
}
