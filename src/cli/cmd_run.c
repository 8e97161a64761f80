/* boxvm run [OPTIONS] IMAGE [COMMAND [ARG...]]
 * boxvm create [OPTIONS] IMAGE [COMMAND [ARG...]] (the same, without starting) */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../box/make.h"
#include "../box/pool.h"
#include "../client/shim_client.h"
#include "../client/tty_keys.h"
#include "../image/image.h"
#include "../vm/cgroup.h"
#include "args.h"
#include "box_ctl.h"
#include "cli.h"
#include "cli_pull.h"

enum {
	OPT_RM, OPT_ENV, OPT_ENV_FILE, OPT_WORKDIR, OPT_USER, OPT_ENTRYPOINT, OPT_INTERACTIVE,
	OPT_CPUS, OPT_HELP, OPT_TTY,
	OPT_DETACH, OPT_NAME, OPT_RESTART, OPT_LOG_OPT, OPT_STOP_SIGNAL, OPT_STOP_TIMEOUT, OPT_LABEL,
	OPT_PULL, OPT_PLATFORM,
	OPT_PUBLISH, OPT_NETWORK, OPT_HOSTNAME, OPT_DNS, OPT_DNS_SEARCH, OPT_DNS_OPTION, OPT_ADD_HOST, OPT_VOLUME,
	OPT_TMPFS, OPT_READ_ONLY,
	OPT_DETACH_KEYS, OPT_NETWORK_ALIAS, OPT_IP,
	OPT_HEALTH, OPT_ULIMIT, OPT_SYSCTL, OPT_CAP_ADD, OPT_CAP_DROP, OPT_PRIVILEGED, OPT_SECURITY_OPT,
	OPT_RESOURCE,
	OPT_GROUP_ADD, OPT_OOM_SCORE_ADJ, OPT_SHM_SIZE, OPT_INIT,
};
static const struct bx_opt run_opts[] = {
	{0, "rm", NULL, OPT_RM, "Automatically remove the box when it exits"},
	{'e', "env", "list", OPT_ENV, "Set environment variables (NAME=VALUE, or NAME to copy it)"},
	{0, "env-file", "list", OPT_ENV_FILE, "Read in a file of environment variables"},
	{'w', "workdir", "string", OPT_WORKDIR, "Working directory inside the box"},
	{'u', "user", "string", OPT_USER, "Username or UID (format: <name|uid>[:<group|gid>])"},
	{0, "entrypoint", "string", OPT_ENTRYPOINT, "Overwrite the default ENTRYPOINT of the image"},
	{'i', "interactive", NULL, OPT_INTERACTIVE, "Keep STDIN open and forward it to the box"},
	{'t', "tty", NULL, OPT_TTY, "Run the main process on a terminal (with -i: raw mode; detach with Ctrl-P Ctrl-Q)"},
	{'m', "memory", "bytes", OPT_RESOURCE, "Memory limit of the box's processes (the VM gets 128m more; default: "
					      "no limit in a 512m VM)"},
	{0, "memory-reservation", "bytes", OPT_RESOURCE, "Memory soft limit (the box's memory.low)"},
	{0, "memory-swap", "bytes", OPT_RESOURCE, "Swap limit equal to memory plus swap: the --memory value or -1 (a box "
						  "has no swap)"},
	{0, "pids-limit", "int", OPT_RESOURCE, "Tune the box's pids limit (-1 or 0 for unlimited)"},
	{'c', "cpu-shares", "int", OPT_RESOURCE, "CPU shares (relative weight, the box's cpu.weight)"},
	{0, "cpuset-cpus", "string", OPT_RESOURCE, "vCPUs in which to allow execution (0-3, 0,1)"},
	{0, "cpus", "number", OPT_CPUS, "Number of CPUs: a quota of the VM's host cgroup; the VM gets it rounded up as vCPUs (default 2 vCPUs, no quota)"},
	{'d', "detach", NULL, OPT_DETACH, "Run the box in the background and print its ID"},
	{0, "detach-keys", "string", OPT_DETACH_KEYS, "Key sequence for detaching from -it (default \"ctrl-p,ctrl-q\"; \"\" turns it off)"},
	{0, "name", "string", OPT_NAME, "Assign a name to the box"},
	{0, "restart", "string", OPT_RESTART, "Restart policy: no, on-failure[:max-retries], always, unless-stopped"},
	{0, "log-opt", "list", OPT_LOG_OPT, "json-file log options: max-size=SIZE, max-file=N"},
	{0, "stop-signal", "string", OPT_STOP_SIGNAL, "Signal to stop the box (default: the image's, else SIGTERM)"},
	{0, "stop-timeout", "int", OPT_STOP_TIMEOUT, "Seconds to wait after the stop signal before killing (default 10)"},
	{'l', "label", "list", OPT_LABEL, "Set metadata on the box (KEY=VALUE)"},
	{0, "pull", "string", OPT_PULL, "Pull image before running: missing (default), always, never"},
	{0, "platform", "string", OPT_PLATFORM, "Platform to pull if the image is multi-platform (default linux/amd64)"},
	{'p', "publish", "list", OPT_PUBLISH, "Publish a box's port(s) to the host: [IP:][HOSTPORT[-END]:]PORT[-END][/tcp|udp]"},
	{0, "network", "string", OPT_NETWORK, "Network: default (user-mode NAT via passt), none (loopback only) or a "
					      "network's name (boxvm network create)"},
	{0, "network-alias", "list", OPT_NETWORK_ALIAS, "Add a network-scoped alias for the box (named networks)"},
	{0, "ip", "string", OPT_IP, "IPv4 address (e.g., 172.30.100.104) on a named network created with --subnet"},
	{'h', "hostname", "string", OPT_HOSTNAME, "Box host name (default: the short box ID)"},
	{0, "dns", "list", OPT_DNS, "Set custom DNS servers"},
	{0, "dns-search", "list", OPT_DNS_SEARCH, "Set custom DNS search domains (\".\": none)"},
	{0, "dns-option", "list", OPT_DNS_OPTION, "Set DNS options (resolv.conf \"options\", e.g. ndots:2)"},
	{0, "add-host", "list", OPT_ADD_HOST, "Add a custom host-to-IP mapping (NAME:IP, IP may be host-gateway)"},
	{'v', "volume", "list", OPT_VOLUME, "Bind mount a host path or a named volume: SRC:DST[:ro]"},
	{0, "tmpfs", "list", OPT_TMPFS, "Mount a tmpfs directory: DST[:size=64m,mode=1777,...]"},
	{0, "read-only", NULL, OPT_READ_ONLY, "Mount the box's root filesystem as read only"},
	{0, "ulimit", "ulimit", OPT_ULIMIT, "Ulimit options: TYPE=SOFT[:HARD] (nofile, nproc, core, ...; -1: unlimited)"},
	{0, "sysctl", "map", OPT_SYSCTL, "Sysctl options: KEY=VALUE (Docker's namespaced ones: net.*, kernel.shm*, ...)"},
	{0, "cap-add", "list", OPT_CAP_ADD, "Add Linux capabilities to Docker's default set (NAME, CAP_NAME or ALL)"},
	{0, "cap-drop", "list", OPT_CAP_DROP, "Drop Linux capabilities (NAME, CAP_NAME or ALL)"},
	{0, "privileged", NULL, OPT_PRIVILEGED, "Give the box's processes every capability"},
	{0, "security-opt", "list", OPT_SECURITY_OPT, "Security options: no-new-privileges[=true|false], "
						      "seccomp=PROFILE.json|unconfined, systempaths=unconfined"},
	{0, "group-add", "list", OPT_GROUP_ADD, "Add additional groups to join (a name in the box's /etc/group, or a GID)"},
	{0, "oom-score-adj", "int", OPT_OOM_SCORE_ADJ, "Tune the guest OOM killer's preference for the box's processes (-1000 to 1000)"},
	{0, "shm-size", "bytes", OPT_SHM_SIZE, "Size of /dev/shm (default 64m)"},
	{0, "init", NULL, OPT_INIT, "Run an init inside the box that forwards signals and reaps processes (the "
				    "agent, PID 1 in every box, already does: recorded only)"},
	{0, "health-cmd", "string", OPT_HEALTH, "Command to run to check health (run with /bin/sh -c in the box)"},
	{0, "health-interval", "duration", OPT_HEALTH, "Time between running the check (ms|s|m|h) (default 30s)"},
	{0, "health-timeout", "duration", OPT_HEALTH, "Maximum time to allow one check to run (ms|s|m|h) (default 30s)"},
	{0, "health-retries", "int", OPT_HEALTH, "Consecutive failures needed to report unhealthy (default 3)"},
	{0, "health-start-period", "duration", OPT_HEALTH, "Start period for the box to initialize before failures count (ms|s|m|h) (default 0s)"},
	{0, "no-healthcheck", NULL, OPT_HEALTH, "Disable any box-specified HEALTHCHECK"},
	/* Docker: -h is --hostname for run/create; help is --help only */
	{0, "help", NULL, OPT_HELP, "Print usage"},
	{0, NULL, NULL, 0, NULL},
};

/* Docker's --cpus is a CPU quota (0.5, 1.5); a VM has whole vCPUs: it gets
 * the quota rounded up, and inspect's NanoCpus keeps what was asked. 0:
 * no quota (the default size). */
static int parse_cpus(const char *s, int *cpus, long long *nano, struct bx_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 64)
		return bx_fail(err, 0, "invalid --cpus '%s': use a number of CPUs from 0.01 to 64 (0: the default)", s);
	if (v == 0)
		return 0;
	*cpus = (int)ceil(v);
	*nano = (long long)(v * 1e9 + 0.5);
	return 0;
}

static void run_opts_free(struct bx_run_opts *ro)
{
	bx_strv_free(ro->env);
	bx_strv_free(ro->env_files);
	bx_strv_free(ro->command);
	bx_strv_free(ro->ulimits);
	bx_strv_free(ro->sysctls);
}

static const char *caller_getenv(const char *name)
{
	return getenv(name);
}

/* the health flags of this command (one run or create per process) */
static struct bx_healthopts run_health;
/* and its privilege flags */
static struct bx_secopts run_sec;
/* and its resource limits */
static struct bx_resources run_res;

enum run_mode { MODE_RUN, MODE_CREATE };
static int run(int argc, char **argv, struct bx_run_opts *ro, struct bx_box_lc *lc, enum run_mode mode,
	       struct bx_netmount *nm);

int cmd_run(int argc, char **argv)
{
	struct bx_run_opts ro = {0};
	struct bx_box_lc lc;
	bx_box_lc_init(&lc);
	static struct bx_netmount nm; /* large: not on the stack */
	int rc = run(argc, argv, &ro, &lc, MODE_RUN, &nm);
	run_opts_free(&ro);
	bx_netmount_free(&nm);
	bx_healthopts_free(&run_health);
	bx_secopts_free(&run_sec);
	bx_box_lc_free(&lc);
	return rc;
}

int cmd_create(int argc, char **argv)
{
	struct bx_run_opts ro = {0};
	struct bx_box_lc lc;
	bx_box_lc_init(&lc);
	static struct bx_netmount nm; /* large: not on the stack */
	int rc = run(argc, argv, &ro, &lc, MODE_CREATE, &nm);
	run_opts_free(&ro);
	bx_netmount_free(&nm);
	bx_healthopts_free(&run_health);
	bx_secopts_free(&run_sec);
	bx_box_lc_free(&lc);
	return rc;
}

static int parse_stop_timeout(const char *s, int *out, struct bx_err *err)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (end == s || *end || v < 0 || v > 86400)
		return bx_fail(err, 0, "invalid --stop-timeout '%s': use a number of seconds", s);
	*out = (int)v;
	return 0;
}

/* A flag Docker's client refuses before it asks the daemon: 125 for create
 * too (its other errors exit 1). */
static int flag_error(struct bx_err *err)
{
	if (err->exit_code < CLI_EXIT_ALWAYS(0))
		err->exit_code = CLI_EXIT_BAD_FLAG;
	return bx_cli_report(err);
}

static int run(int argc, char **argv, struct bx_run_opts *rop, struct bx_box_lc *lc, enum run_mode mode,
	       struct bx_netmount *nm)
{
	struct bx_err err = {0};
	struct bx_run_opts *ro = rop;
	struct bx_box_opts bo = {.mem_mb = 512, .cpus = 2};
	struct bx_args a;
	int id, r;
	const char *val, *pull_policy = "missing", *platform = NULL;
	struct bx_detach detach_keys;
	bx_detach_parse(BX_DETACH_DEFAULT, &detach_keys, NULL);
	bx_args_init(&a, argc, argv);
	a.stop_at_operand = true; /* IMAGE [COMMAND] [ARG...]: the command's own flags follow */
	a.i = 1;
	while ((r = bx_args_next(&a, run_opts, &id, &val, &err)) > 0) {
		switch (id) {
		case OPT_RM: bo.auto_remove = !val; break;
		case OPT_ENV: r = cli_strv_append(&ro->env, val, &err); break;
		case OPT_ENV_FILE: r = cli_strv_append(&ro->env_files, val, &err); break;
		case OPT_WORKDIR: ro->workdir = val; break;
		case OPT_USER: ro->user = val; break;
		case OPT_ENTRYPOINT: ro->entrypoint = val; break;
		case OPT_INTERACTIVE: ro->stdin_open = !val; break;
		case OPT_TTY: ro->tty = !val; break;
		case OPT_PUBLISH: r = cli_strv_append(&nm->publish, val, &err); break;
		case OPT_NETWORK: nm->network = val; break;
		case OPT_NETWORK_ALIAS: r = cli_strv_append(&nm->aliases, val, &err); break;
		case OPT_IP: nm->ip = val; break;
		case OPT_HOSTNAME: nm->hostname = val; break;
		case OPT_DNS: r = cli_strv_append(&nm->dns, val, &err); break;
		case OPT_DNS_SEARCH: r = cli_strv_append(&nm->dns_search, val, &err); break;
		case OPT_DNS_OPTION: r = cli_strv_append(&nm->dns_options, val, &err); break;
		case OPT_ADD_HOST: r = cli_strv_append(&nm->add_hosts, val, &err); break;
		case OPT_VOLUME: r = cli_strv_append(&nm->volumes, val, &err); break;
		case OPT_TMPFS: r = cli_strv_append(&nm->tmpfs, val, &err); break;
		case OPT_READ_ONLY: nm->read_only = !val; break;
		case OPT_ULIMIT: r = cli_strv_append(&ro->ulimits, val, &err); break;
		case OPT_SYSCTL: r = cli_strv_append(&ro->sysctls, val, &err); break;
		case OPT_CAP_ADD: r = cli_strv_append(&run_sec.cap_add, val, &err); break;
		case OPT_CAP_DROP: r = cli_strv_append(&run_sec.cap_drop, val, &err); break;
		case OPT_PRIVILEGED: run_sec.privileged = !val; break;
		case OPT_SECURITY_OPT: r = cli_strv_append(&run_sec.security_opt, val, &err); break;
		case OPT_INIT: run_sec.init_given = true, run_sec.init = !val; break;
		case OPT_GROUP_ADD: r = cli_strv_append(&run_sec.group_add, val, &err); break;
		case OPT_OOM_SCORE_ADJ: {
			char *end;
			long v = strtol(val, &end, 10);
			if (end == val || *end || v < INT_MIN || v > INT_MAX) {
				bx_fail(&err, 0, "invalid argument \"%s\" for \"--oom-score-adj\" flag: strconv.ParseInt: "
					"parsing \"%s\": invalid syntax", val, val);
				return flag_error(&err);
			}
			run_sec.oom_score_adj = (int)v;
			break;
		}
		case OPT_SHM_SIZE:
			if (bx_shm_size_parse(val, &run_sec.shm_size, &err) < 0)
				return flag_error(&err);
			break;
		case OPT_HEALTH:
			/* (a boolean's val is NULL for true: --no-healthcheck=false leaves it off) */
			if (!(!strcmp(a.last->long_name, "no-healthcheck") && val) &&
			    bx_healthopts_flag(&run_health, a.last->long_name, val, &err) < 0)
				return flag_error(&err);
			break;
		case OPT_RESOURCE:
			if (bx_resources_flag(&run_res, a.last->long_name, val, &err) < 0)
				return flag_error(&err);
			break;
		case OPT_CPUS:
			if (parse_cpus(val, &bo.cpus, &lc->nano_cpus, &err) < 0)
				return flag_error(&err);
			bo.nano_cpus = lc->nano_cpus;
			break;
		case OPT_DETACH: lc->detach = !val; break;
		case OPT_DETACH_KEYS:
			if (bx_detach_parse(val, &detach_keys, &err) < 0)
				return flag_error(&err);
			break;
		case OPT_NAME: lc->name = val; break;
		case OPT_STOP_SIGNAL: lc->stop_signal = val; break;
		case OPT_LABEL:
			if (!*val || *val == '=') {
				bx_fail(&err, 0, "invalid label '%s': use KEY=VALUE", val);
				return flag_error(&err);
			}
			r = cli_strv_append(&lc->labels, val, &err);
			break;
		case OPT_PULL: pull_policy = val; break;
		case OPT_PLATFORM: platform = val; break;
		case OPT_RESTART:
			if (bx_restart_policy_parse(val, &lc->cfg.restart, &err) < 0)
				return flag_error(&err);
			break;
		case OPT_LOG_OPT:
			if (bx_log_opt_parse(val, &lc->cfg.log, &err) < 0)
				return flag_error(&err);
			r = cli_strv_append(&lc->log_opts, val, &err);
			break;
		case OPT_STOP_TIMEOUT:
			if (parse_stop_timeout(val, &lc->stop_timeout, &err) < 0)
				return flag_error(&err);
			break;
		case OPT_HELP:
			if (mode == MODE_CREATE)
				bx_args_usage("boxvm create [OPTIONS] IMAGE [COMMAND] [ARG...]",
					      "Create a new box from an image without starting it (see boxvm start).", run_opts);
			else
				bx_args_usage("boxvm run [OPTIONS] IMAGE [COMMAND] [ARG...]",
					      "Create and run a new box from an image, in its own microVM.", run_opts);
			return 0;
		}
		if (r < 0) /* a value that could not be kept (out of memory) */
			return flag_error(&err);
	}
	if (r < 0)
		return bx_cli_report(&err);
	if (a.i >= argc) {
		bx_fail_code(&err, CLI_EXIT_USAGE, 0, "\"%s\" requires at least 1 argument: boxvm %s [OPTIONS] IMAGE [COMMAND] [ARG...]",
			mode == MODE_CREATE ? "create" : "run", mode == MODE_CREATE ? "create" : "run");
		return bx_cli_report(&err);
	}
	if (ro->tty && ro->stdin_open && mode == MODE_RUN && !lc->detach && !isatty(0)) {
		/* Docker: exit 1, not run's 125 */
		bx_fail_code(&err, CLI_EXIT_ALWAYS(1), 0, "the input device is not a TTY; drop -t (or run from a terminal)");
		return bx_cli_report(&err);
	}
	const char *ref = argv[a.i++];
	if (a.i < argc && !strcmp(argv[a.i], "--"))
		a.i++;
	for (int i = a.i; i < argc; i++)
		if (cli_strv_append(&ro->command, argv[i], &err) < 0)
			return flag_error(&err);
	if (lc->cfg.restart.kind != BX_RESTART_NO && bo.auto_remove) {
		bx_fail(&err, 0, "conflicting options: --restart and --rm cannot be used together");
		return flag_error(&err);
	}
	if (bx_run_opts_check(ro, caller_getenv, &err) < 0 || bx_netmount_check(nm, &err) < 0 ||
	    bx_healthopts_check(&run_health, &err) < 0 || bx_secopts_read_profiles(&run_sec, &err) < 0 ||
	    bx_secopts_check(&run_sec, &err) < 0 || bx_resources_check(&run_res, bo.cpus, &err) < 0)
		return flag_error(&err);
	/* the same shares and CPUs hold the VM's host cgroup (src/vm/cgroup.h): its CPUs must be the host's too */
	bo.cpu_shares = run_res.cpu_shares;
	if (run_res.cpuset_cpus[0]) {
		char online[BX_CPUSET_TEXT];
		bx_host_cpus(online, sizeof(online));
		if (bx_cpuset_check(run_res.cpuset_cpus, online, &err) < 0)
			return flag_error(&err); /* 125, as Docker's daemon refusing it */
		snprintf(bo.cpuset_cpus, sizeof(bo.cpuset_cpus), "%s", run_res.cpuset_cpus);
	}

	struct bx_paths p;
	if (bx_paths_init(&p, &err) < 0)
		return bx_cli_report(&err);
	struct bx_image img;
	if (cli_image_for_box(&p, ref, pull_policy, platform, &img, &err) < 0)
		return bx_cli_report(&err);

	struct bx_vmspec vm;
	int rc = BX_EXIT_ERROR, start_lock = -1;
	const struct bx_box_make make = {
		.img = &img,
		.image_ref = ref,
		.ro = ro,
		.nm = nm,
		.health = &run_health,
		.sec = &run_sec,
		.res = &run_res,
		.lc = lc,
		.bo = &bo,
		.getenv_fn = caller_getenv,
		/* a foreground client attaches right after start: the shim keeps main's
		 * output for it instead of taking it into the log alone */
		.hold_output = mode == MODE_RUN && !lc->detach,
		.start_lock = mode == MODE_RUN,
	};
	if (bx_box_make(&p, &make, &vm, &start_lock, &err) < 0)
		goto fail;
	const char *boxid = vm.id;
	/* run -d returns once main runs in the guest (the shim says so). A box
	 * that could not start stays, as Docker's does: the shim recorded why
	 * and with which code (126/127: its command; 125: the VM), `--rm` has
	 * removed it; -d prints its ID first. */
	if (mode == MODE_RUN && bx_box_boot(&p, &vm, &err) < 0) {
		struct bx_box_record left;
		if (lc->detach && bx_state_read(vm.box_dir, &left, NULL) == 0) {
			printf("%s\n", boxid);
			fflush(stdout);
		}
		goto fail;
	}
	if (start_lock >= 0)
		close(start_lock); /* the shim has recorded itself: not held while attached */
	start_lock = -1;
	if (mode == MODE_CREATE || lc->detach) {
		printf("%s\n", boxid);
		rc = 0;
		goto out;
	}
	/* returns once the box's shim has cleaned up after it (with --rm,
	 * removed it) and exited */
	rc = bx_box_attach(&vm, ro->stdin_open, &detach_keys, &err);
	if (rc < 0)
		rc = bx_cli_report(&err);
	goto out;
fail:
	rc = bx_cli_report(&err);
out:
	if (start_lock >= 0)
		close(start_lock);
	bx_image_free(&img);
	return rc;
}
