/* boxvm-runtime: runc's command line over boxvm microVMs (rt.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rt.h"

static const char usage_text[] =
	"usage: boxvm-runtime [GLOBAL OPTIONS] COMMAND [OPTIONS] ID ...\n"
	"\n"
	"A runc-compatible OCI runtime: every container runs in its own boxvm microVM.\n"
	"\n"
	"Commands:\n"
	"  create --bundle DIR [--pid-file F] [--console-socket S] ID\n"
	"                                  prepare the box; the VM boots on start\n"
	"  start ID                        run the container's process\n"
	"  run [create's flags] [-d] [--keep] ID\n"
	"                                  create, start and wait (then delete, unless --keep)\n"
	"  state ID                        print the OCI state (JSON)\n"
	"  kill ID [SIGNAL] [--all]        signal the container's process (default TERM)\n"
	"  delete [--force] ID             remove a stopped (or, forced, any) container\n"
	"  exec --process FILE [--detach] [--pid-file F] [--console-socket S] [--tty] ID\n"
	"  exec [--tty] [--cwd DIR] [--env K=V] [--user U] ID CMD [ARG...]\n"
	"                                  run another process in the container's VM\n"
	"  ps [--format json|table] ID     the container's host-side process\n"
	"  list [--format json] [-q]       containers under --root\n"
	"  features                        what this runtime supports (JSON)\n"
	"  spec [--bundle DIR] [--rootless] write runc's default config.json\n"
	"  pause ID, resume ID             freeze / thaw the container's whole VM\n"
	"  update [-r resources.json] [--memory N] [--memory-reservation N] [--cpu-quota N --cpu-period N]\n"
	"         [--cpu-share N] [--cpuset-cpus LIST] [--pids-limit N] ID\n"
	"                                  change a container's limits (memory: the balloon, down only)\n"
	"  checkpoint, restore: not supported\n"
	"\n"
	"Global options:\n"
	"  --root DIR          container state (default " RT_DEFAULT_ROOT ")\n"
	"  --log FILE          also write errors (and --debug lines) here\n"
	"  --log-format FMT    text or json\n"
	"  --debug             log debug lines\n"
	"  --systemd-cgroup    accepted (the VM is the resource boundary)\n"
	"  --version, --help\n"
	"\n"
	"Environment: BOXVM_ROOT, BOXVM_RUNTIME_DIR, BOXVM_KERNEL_DIR, BOXVM_LIBEXEC as for boxvm.\n"
	"Annotations: io.boxvm.memory=SIZE, io.boxvm.cpus=N, io.boxvm.ports=[IP:]HOST:GUEST[/udp],...\n"
	"  (in a joined network namespace every TCP/UDP port 1-32767 reaches the box unless\n"
	"  io.boxvm.ports lists the only ones; \"\" forwards none)\n";

struct command {
	const char *name;
	int (*fn)(const struct rt_globals *, int, char **);
};

static const struct command commands[] = {
	{"create", rt_cmd_create},   {"start", rt_cmd_start},     {"state", rt_cmd_state},
	{"kill", rt_cmd_kill},       {"delete", rt_cmd_delete},   {"exec", rt_cmd_exec},
	{"ps", rt_cmd_ps},           {"list", rt_cmd_list},       {"features", rt_cmd_features},
	{"pause", rt_cmd_pause},     {"resume", rt_cmd_resume},   {"spec", rt_cmd_spec},       {"run", rt_cmd_run},
	{"update", rt_cmd_update},
	{"checkpoint", NULL},        {"restore", NULL},           {"events", rt_cmd_events},
};

int main(int argc, char **argv)
{
	struct rt_globals g = {.root = RT_DEFAULT_ROOT};
	struct rt_opt o[] = {
		{"root", 0, true, NULL},        {"log", 0, true, NULL},        {"log-format", 0, true, NULL},
		{"debug", 0, false, NULL},      {"systemd-cgroup", 0, false, NULL}, {"criu", 0, true, NULL},
		{"rootless", 0, true, NULL},    {"version", 'v', false, NULL}, {"help", 'h', false, NULL},
	};
	const size_t no = sizeof(o) / sizeof(o[0]);
	/* global flags end at the first word that is not one (the command) */
	int i = 1;
	while (i < argc && argv[i][0] == '-') {
		bool takes = false;
		const char *n = argv[i] + (argv[i][1] == '-' ? 2 : 1);
		for (size_t k = 0; k < no; k++)
			if (o[k].has_value && !strcmp(o[k].name, n))
				takes = true;
		i += takes ? 2 : 1;
	}
	if (i > argc)
		i = argc;
	char *none[1];
	if (rt_opts_parse("boxvm-runtime", i - 1, argv + 1, o, no, none, 0) < 0)
		return 1;
	if (rt_opt_get(o, no, "root") && *rt_opt_get(o, no, "root"))
		g.root = rt_opt_get(o, no, "root");
	g.log_path = rt_opt_get(o, no, "log");
	const char *fmt = rt_opt_get(o, no, "log-format");
	g.log_json = fmt && !strcmp(fmt, "json");
	g.debug = rt_opt_get(o, no, "debug") != NULL;
	rt_log_init(&g);
	if (fmt && strcmp(fmt, "json") && strcmp(fmt, "text")) {
		rt_error("invalid log format \"%s\" (text or json)", fmt);
		return 1;
	}
	if (rt_opt_get(o, no, "version")) {
		/* runc's lines (version, commit, spec), with our own name and versions */
		printf("boxvm-runtime version %s\ncommit: boxvm %s\nspec: 1.0.2\n", BOXVM_VERSION, BOXVM_VERSION);
		return 0;
	}
	if (rt_opt_get(o, no, "help") || i >= argc || !strcmp(argv[i], "help")) {
		fputs(usage_text, i >= argc && !rt_opt_get(o, no, "help") ? stderr : stdout);
		return i >= argc && !rt_opt_get(o, no, "help") ? 1 : 0;
	}
	if (g.root[0] != '/') {
		rt_error("--root must be an absolute path, not \"%s\"", g.root);
		return 1;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++) {
		if (strcmp(commands[k].name, argv[i]))
			continue;
		if (!commands[k].fn)
			return rt_cmd_unsupported(&g, argc - i, argv + i);
		for (int j = i + 1; j < argc; j++)
			if (!strcmp(argv[j], "--help") || !strcmp(argv[j], "-h")) {
				fputs(usage_text, stdout);
				return 0;
			}
		return commands[k].fn(&g, argc - i - 1, argv + i + 1);
	}
	rt_error("unknown command \"%s\" (see boxvm-runtime --help)", argv[i]);
	return 1;
}
