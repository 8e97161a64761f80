/* config.json -> box (src/runtime/oci_config.c): the mapping of each supported
 * field, the rejection of fields a VM cannot honour, malformed input, and the
 * small parsers (sizes, signals, rlimit names). */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "runtime/oci_config.h"

static struct bx_oci_config oc; /* large: not on the stack */

/* A minimal valid config with `extra` spliced in as further top-level members
 * ("" for none) and `proc_extra` as further members of process. */
static char *config(const char *proc_extra, const char *extra)
{
	char *text;
	int n = asprintf(&text,
			 "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
			 " \"process\": {\"args\": [\"sh\", \"-c\", \"echo hi\"]%s%s}%s%s}",
			 *proc_extra ? ", " : "", proc_extra, *extra ? ", " : "", extra);
	assert_true(n > 0);
	return text;
}

/* Parse; return 0/-1 and leave the message in *err. */
static int parse(const char *proc_extra, const char *extra, struct bx_err *err)
{
	char *text = config(proc_extra, extra);
	int rc = bx_oci_config_parse(text, "/b", &oc, err);
	free(text);
	return rc;
}

static void expect_error(const char *proc_extra, const char *extra, const char *want)
{
	struct bx_err err;
	assert_int_equal(parse(proc_extra, extra, &err), -1);
	if (!strstr(err.msg, want))
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
	assert_null(oc.spec.args); /* freed on failure */
}

static void test_minimal_defaults(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("", "", &err), 0);
	assert_string_equal(oc.root_path, "/b/rootfs");
	assert_int_equal(oc.spec.nargs, 3);
	assert_string_equal(oc.spec.args[2], "echo hi");
	assert_string_equal(oc.spec.cwd, "/");
	assert_null(oc.spec.user);
	assert_false(oc.spec.tty);
	assert_true(oc.spec.stdin_open);
	assert_false(oc.spec.read_only);
	assert_int_equal(oc.nmounts, 0);
	assert_int_equal(oc.mem_mb, 0);
	assert_int_equal(oc.cpus, 0);
	assert_false(oc.network);
	assert_int_equal(oc.spec.nrlimits, 0);
	bx_oci_config_free(&oc);
}

static void test_process_fields(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("\"env\": [\"A=1\", \"PATH=/bin\"], \"cwd\": \"/work\", \"terminal\": true,"
			       " \"user\": {\"uid\": 1000, \"gid\": 100, \"additionalGids\": [10, 20]}",
			       "\"hostname\": \"web1\", \"root\": {\"path\": \"/abs/root\", \"readonly\": true}", &err),
			 0);
	assert_string_equal(oc.root_path, "/abs/root");
	assert_true(oc.spec.read_only);
	assert_int_equal(oc.spec.nenv, 2);
	assert_string_equal(oc.spec.env[1], "PATH=/bin");
	assert_string_equal(oc.spec.cwd, "/work");
	assert_string_equal(oc.spec.user, "1000:100");
	assert_int_equal(oc.spec.ngroups, 2);
	assert_int_equal(oc.spec.groups[1], 20);
	assert_true(oc.spec.tty);
	assert_string_equal(oc.spec.hostname, "web1");
	bx_oci_config_free(&oc);
}

static void test_rlimits(void **state)
{
	struct bx_err err;
	/* 18446744073709551615 (unlimited as Go writes it) does not fit jansson's int64 */
	assert_int_equal(parse("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1024, \"hard\": 4096},"
			       " {\"type\": \"RLIMIT_CORE\", \"soft\": 18446744073709551615, \"hard\": 18446744073709551615},"
			       " {\"type\": \"RLIMIT_NPROC\", \"soft\": 9223372036854775807, \"hard\": 9223372036854775807}]",
			       "\"annotations\": {\"x\": \"18446744073709551615 stays text\", \"f\": 0.123456789012345678901}",
			       &err),
			 0);
	assert_int_equal(oc.spec.nrlimits, 3);
	assert_int_equal(oc.spec.rlimits[0].resource, RLIMIT_NOFILE);
	assert_true(oc.spec.rlimits[0].soft == 1024 && oc.spec.rlimits[0].hard == 4096);
	assert_int_equal(oc.spec.rlimits[1].resource, RLIMIT_CORE);
	assert_true(oc.spec.rlimits[1].soft == UINT64_MAX && oc.spec.rlimits[1].hard == UINT64_MAX);
	assert_true(oc.spec.rlimits[2].soft == INT64_MAX);
	bx_oci_config_free(&oc);

	expect_error("\"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"soft\": 1, \"hard\": 1}]", "",
		     "process.rlimits[0]: unknown type RLIMIT_BOGUS");
	expect_error("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 10, \"hard\": 5}]", "",
		     "soft 10 is above hard 5");
	expect_error("\"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": \"x\", \"hard\": 5}]", "",
		     "needs numeric soft and hard");
	expect_error("\"rlimits\": {}", "", "process.rlimits must be an array");

	assert_int_equal(bx_oci_rlimit_parse("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	assert_int_equal(bx_oci_rlimit_parse("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	assert_int_equal(bx_oci_rlimit_parse("NOFILE"), -1);
	assert_int_equal(bx_oci_rlimit_parse("RLIMIT_nofile"), -1);
	assert_int_equal(bx_oci_rlimit_parse(NULL), -1);
}

static void test_mounts(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("", "\"mounts\": ["
				   "{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
				   "{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\"},"
				   "{\"destination\": \"/dev/pts\", \"type\": \"devpts\"},"
				   "{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\"},"
				   "{\"destination\": \"/data\", \"type\": \"bind\", \"source\": \"/srv/d\", \"options\": [\"rbind\", \"ro\"]},"
				   "{\"destination\": \"/etc/hosts\", \"source\": \"/h/hosts\", \"options\": [\"bind\"]},"
				   "{\"destination\": \"/run\", \"type\": \"tmpfs\", \"options\": [\"nosuid\", \"size=64m\", \"mode=755\"]}]",
			       &err),
			 0);
	assert_int_equal(oc.nmounts, 3); /* proc, /dev, devpts, cgroup are the guest's own */
	assert_int_equal(oc.mounts[0].kind, BX_MNT_BIND);
	assert_string_equal(oc.mounts[0].source, "/srv/d");
	assert_string_equal(oc.mounts[0].target, "/data");
	assert_true(oc.mounts[0].ro);
	assert_int_equal(oc.mounts[1].kind, BX_MNT_BIND);
	assert_false(oc.mounts[1].ro);
	assert_int_equal(oc.mounts[2].kind, BX_MNT_TMPFS);
	assert_string_equal(oc.mounts[2].options, "rw,nosuid,dev,exec,size=64m,mode=755"); /* runc: only the flags named */
	bx_oci_config_free(&oc);

	expect_error("", "\"mounts\": [{\"destination\": \"/x\", \"type\": \"nfs\", \"source\": \"h:/e\"}]",
		     "mount type \"nfs\" on /x is not supported");
	/* runc: a relative source lies in the bundle */
	assert_int_equal(parse("", "\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"rel/d\"}]", &err),
			 0);
	assert_string_equal(oc.mounts[0].source, "/b/rel/d");
	bx_oci_config_free(&oc);
	expect_error("", "\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\", \"source\": \"\"}]",
		     "bind mount on /x needs a source");
	expect_error("", "\"mounts\": [{\"destination\": \"x\", \"type\": \"tmpfs\"}]",
		     "mounts[0].destination must be an absolute path");
	expect_error("", "\"mounts\": [{\"destination\": \"/x\"}]", "mounts[0] (/x) has no type");
	expect_error("", "\"mounts\": {}", "mounts must be an array");
	/* more binds than virtiofs shares */
	char binds[4096] = "\"mounts\": [";
	for (int i = 0; i <= BX_MAX_SHARES; i++)
		snprintf(binds + strlen(binds), sizeof(binds) - strlen(binds),
			 "%s{\"destination\": \"/m%d\", \"type\": \"bind\", \"source\": \"/s\"}", i ? "," : "", i);
	strcat(binds, "]");
	expect_error("", binds, "too many bind mounts");
}

static void test_resources_and_annotations(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("", "\"linux\": {\"resources\": {\"memory\": {\"limit\": 1073741824},"
				   " \"cpu\": {\"quota\": 150000, \"period\": 100000}}}", &err), 0);
	assert_int_equal(oc.mem_mb, 1024 + BX_RES_VM_OVERHEAD_MB); /* the limit binds in the guest's cgroup */
	assert_int_equal(oc.res.memory, 1073741824);
	assert_int_equal(oc.cpus, 2); /* ceil(1.5) */
	bx_oci_config_free(&oc);
	/* a tiny limit still gets a bootable VM (and Docker's minimum from bx_resources_check at create) */
	assert_int_equal(parse("", "\"linux\": {\"resources\": {\"memory\": {\"limit\": 1048576}}}", &err), 0);
	assert_int_equal(oc.mem_mb, 1 + BX_RES_VM_OVERHEAD_MB);
	bx_oci_config_free(&oc);
	/* the guest cgroup's limits: runc's fields (swap is moot, -1 no limit) */
	assert_int_equal(parse("", "\"linux\": {\"resources\": {\"memory\": {\"limit\": 67108864, \"reservation\": 33554432,"
				   " \"swap\": 134217728}, \"pids\": {\"limit\": 64}, \"cpu\": {\"shares\": 512, \"cpus\": \"0-1\"}}}",
			       &err), 0);
	assert_true(oc.res.memory == 67108864 && oc.res.memory_reservation == 33554432 && oc.res.pids_limit == 64);
	assert_true(oc.res.cpu_shares == 512 && !strcmp(oc.res.cpuset_cpus, "0-1"));
	bx_oci_config_free(&oc);
	assert_int_equal(parse("", "\"linux\": {\"resources\": {\"memory\": {\"limit\": -1}, \"pids\": {\"limit\": -1}}}",
			       &err), 0);
	assert_true(oc.res.memory == 0 && oc.res.pids_limit == 0 && oc.mem_mb == 0);
	bx_oci_config_free(&oc);
	expect_error("", "\"linux\": {\"resources\": {\"pids\": {\"limit\": \"x\"}}}", "linux.resources.pids.limit");
	expect_error("", "\"linux\": {\"resources\": {\"cpu\": {\"cpus\": \"a\"}}}", "linux.resources.cpu.cpus");
	/* annotations override the resources */
	assert_int_equal(parse("", "\"linux\": {\"resources\": {\"memory\": {\"limit\": 1073741824}}},"
				   " \"annotations\": {\"io.boxvm.memory\": \"2g\", \"io.boxvm.cpus\": \"3\"}", &err), 0);
	assert_int_equal(oc.mem_mb, 2048);
	assert_int_equal(oc.cpus, 3);
	bx_oci_config_free(&oc);
	expect_error("", "\"annotations\": {\"io.boxvm.memory\": \"10m\"}", "io.boxvm.memory=10m: want a size");
	expect_error("", "\"annotations\": {\"io.boxvm.cpus\": \"0\"}", "io.boxvm.cpus=0: want a number");
	expect_error("", "\"annotations\": {\"io.boxvm.ports\": \"8080:80\"}", "needs a network namespace");
}

static void test_namespaces(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\","
				   " \"path\": \"/run/netns/pod\"}, {\"type\": \"mount\"}]},"
				   " \"annotations\": {\"io.boxvm.ports\": \"8080:80,53:53/udp\"}", &err), 0);
	assert_true(oc.netns_join && oc.network);
	assert_string_equal(oc.netns_path, "/run/netns/pod");
	assert_int_equal(oc.nports, 2);
	assert_false(oc.all_ports); /* the annotation names the only ports */
	bx_oci_config_free(&oc);
	/* a pod's namespace without the annotation: every port goes to the box */
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"network\","
				   " \"path\": \"/run/netns/pod\"}]}", &err), 0);
	assert_true(oc.network && oc.all_ports);
	assert_int_equal(oc.nports, 0);
	bx_oci_config_free(&oc);
	/* ... but not the pod's sandbox (pause) container (containerd, CRI-O) */
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/run/netns/pod\"}]},"
				   " \"annotations\": {\"io.kubernetes.cri.container-type\": \"sandbox\"}", &err), 0);
	assert_true(oc.network);
	assert_false(oc.all_ports);
	bx_oci_config_free(&oc);
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/run/netns/pod\"}]},"
				   " \"annotations\": {\"io.kubernetes.cri-o.ContainerType\": \"sandbox\"}", &err), 0);
	assert_false(oc.all_ports);
	bx_oci_config_free(&oc);
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"/run/netns/pod\"}]},"
				   " \"annotations\": {\"io.kubernetes.cri.container-type\": \"container\"}", &err), 0);
	assert_true(oc.all_ports);
	bx_oci_config_free(&oc);
	/* an empty annotation: none */
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"network\","
				   " \"path\": \"/run/netns/pod\"}]}, \"annotations\": {\"io.boxvm.ports\": \"\"}", &err), 0);
	assert_true(oc.network);
	assert_false(oc.all_ports);
	assert_int_equal(oc.nports, 0);
	bx_oci_config_free(&oc);
	/* a new, empty network namespace: no NIC */
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"network\"}]}", &err), 0);
	assert_false(oc.netns_join || oc.network || oc.all_ports);
	bx_oci_config_free(&oc);
	expect_error("", "\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"rel\"}]}", "must be absolute");
	/* uts: a pod's container joins its sandbox's (path); the sandbox makes one (no path) */
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"uts\", \"path\": \"/proc/42/ns/uts\"}]}", &err), 0);
	assert_string_equal(oc.uts_path, "/proc/42/ns/uts");
	assert_false(oc.uts_new);
	bx_oci_config_free(&oc);
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": [{\"type\": \"uts\"}]}", &err), 0);
	assert_true(oc.uts_new);
	assert_string_equal(oc.uts_path, "");
	bx_oci_config_free(&oc);
	assert_int_equal(parse("", "\"linux\": {\"namespaces\": []}", &err), 0);
	assert_false(oc.uts_new); /* the caller's: nothing to make */
	bx_oci_config_free(&oc);
	expect_error("", "\"linux\": {\"namespaces\": [{\"type\": \"uts\", \"path\": \"rel\"}]}", "must be absolute");
}

static void test_rejected_fields(void **state)
{
	expect_error("", "\"hooks\": {\"startContainer\": [{\"path\": \"/bin/true\"}]}",
		     "hooks.startContainer is not supported by boxvm-runtime");
	expect_error("", "\"linux\": {\"devices\": [{\"path\": \"/dev/fuse\", \"type\": \"c\", \"major\": 10, \"minor\": 229}]}",
		     "linux.devices is not supported");
	expect_error("", "\"linux\": {\"namespaces\": [{\"type\": \"user\"}]}", "user namespaces are not supported");
	expect_error("", "\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}",
		     "uid/gid mappings are not supported");
	expect_error("", "\"linux\": {\"intelRdt\": {}}", "linux.intelRdt is not supported");
	expect_error("", "\"linux\": {\"personality\": {\"domain\": \"LINUX32\"}}", "linux.personality is not supported");
	expect_error("\"ioPriority\": {\"class\": \"IOPRIO_CLASS_RT\"}", "", "process.ioPriority is not supported");
	expect_error("\"user\": {\"uid\": 0, \"gid\": 0, \"username\": \"x\"}", "", "username is for Windows");
	/* empty hook lists and device lists change nothing: accepted */
	struct bx_err err;
	assert_int_equal(parse("", "\"hooks\": {\"prestart\": []}, \"linux\": {\"devices\": [],"
				   " \"seccomp\": {\"defaultAction\": \"SCMP_ACT_ERRNO\"}, \"maskedPaths\": [\"/proc/kcore\"]}",
			       &err), 0);
	bx_oci_config_free(&oc);
}

/* Hooks run on the host (src/runtime/hooks.c): kept whole when every one can
 * run; a malformed one fails create, before anything of the container exists. */
static void test_hooks(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("", "\"hooks\": {\"prestart\": [{\"path\": \"/bin/true\", \"args\": [\"true\", \"x\"],"
				   " \"env\": [\"A=1\"], \"timeout\": 5}], \"poststop\": [{\"path\": \"/bin/echo\"}],"
				   " \"someFutureKind\": 3}",
			       &err), 0);
	assert_non_null(oc.hooks_json);
	assert_non_null(strstr(oc.hooks_json, "\"prestart\""));
	assert_non_null(strstr(oc.hooks_json, "\"poststop\""));
	bx_oci_config_free(&oc);
	assert_null(oc.hooks_json);
	/* none, or only empty lists: nothing kept */
	assert_int_equal(parse("", "\"hooks\": {\"poststart\": []}", &err), 0);
	assert_null(oc.hooks_json);
	bx_oci_config_free(&oc);
	expect_error("", "\"hooks\": {\"poststart\": [{\"path\": \"true\"}]}", "hooks.poststart[0].path: want an absolute path");
	expect_error("", "\"hooks\": {\"poststart\": [{\"args\": []}]}", "hooks.poststart[0].path");
	expect_error("", "\"hooks\": {\"prestart\": [{\"path\": \"/x\"}, {\"path\": \"/y\", \"timeout\": 0}]}",
		     "hooks.prestart[1].timeout: want whole seconds above 0");
	expect_error("", "\"hooks\": {\"poststop\": [{\"path\": \"/x\", \"args\": [\"x\", 3]}]}",
		     "hooks.poststop[0].args[1] is not a string");
	expect_error("", "\"hooks\": {\"poststop\": [{\"path\": \"/x\", \"env\": \"A=1\"}]}",
		     "hooks.poststop[0].env: want an array");
	expect_error("", "\"hooks\": {\"createRuntime\": {}}", "hooks.createRuntime: want an array");
	expect_error("", "\"hooks\": []", "hooks is not an object");
}

/* process.capabilities and noNewPrivileges: applied as runc applies them */
static void test_capabilities(void **state)
{
	struct bx_err err;
	assert_int_equal(parse("\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\", \"CAP_NOT_A_CAP\"],"
			       " \"effective\": [\"CAP_KILL\"], \"permitted\": [\"CAP_KILL\"], \"ambient\": [\"CAP_KILL\"]},"
			       " \"noNewPrivileges\": true", "", &err),
			 0);
	assert_true(oc.spec.caps.set && oc.spec.caps.keep && oc.spec.no_new_privs);
	assert_true(oc.spec.caps.bounding == ((1ULL << 5) | (1ULL << 10))); /* an unknown name is skipped */
	assert_true(oc.spec.caps.effective == 1ULL << 5 && oc.spec.caps.inheritable == 0);
	bx_oci_config_free(&oc);
	assert_int_equal(parse("", "", &err), 0);
	assert_false(oc.spec.caps.set || oc.spec.no_new_privs); /* none given: every capability */
	bx_oci_config_free(&oc);
	expect_error("\"capabilities\": {\"bounding\": \"CAP_KILL\"}", "", "process.capabilities.bounding must be an array");
	expect_error("\"capabilities\": {\"bounding\": [5]}", "", "process.capabilities.bounding[0] is not a string");
	expect_error("\"noNewPrivileges\": 1", "", "process.noNewPrivileges");
	/* linux.sysctl: dotted or slashed keys, written by the agent */
	assert_int_equal(parse("", "\"linux\": {\"sysctl\": {\"net.core.somaxconn\": \"7\", \"net/ipv4/ip_forward\": \"1\"}}", &err), 0);
	assert_int_equal(oc.spec.nsysctls, 2);
	assert_string_equal(oc.spec.sysctls[0], "net.core.somaxconn=7");
	assert_string_equal(oc.spec.sysctls[1], "net.ipv4.ip_forward=1");
	bx_oci_config_free(&oc);
	expect_error("", "\"linux\": {\"sysctl\": {\"net/../x\": \"1\"}}", "linux.sysctl");
	expect_error("", "\"linux\": {\"sysctl\": {\"net.x\": 1}}", "linux.sysctl");
}

static void test_malformed(void **state)
{
	struct bx_err err;
	assert_int_equal(bx_oci_config_parse("{not json", "/b", &oc, &err), -1);
	assert_non_null(strstr(err.msg, "invalid config.json:"));
	assert_non_null(strstr(err.msg, "line 1"));
	assert_int_equal(bx_oci_config_parse("[]", "/b", &oc, &err), -1);
	assert_non_null(strstr(err.msg, "not a JSON object"));
	assert_int_equal(bx_oci_config_parse("{\"ociVersion\": \"0.9\"}", "/b", &oc, &err), -1);
	assert_non_null(strstr(err.msg, "ociVersion 0.9 is not 1.x"));
	assert_int_equal(bx_oci_config_parse("{\"ociVersion\": \"1.0.0\", \"process\": {\"args\": [\"x\"]}}", "/b", &oc,
					     &err), -1);
	assert_non_null(strstr(err.msg, "root.path is missing"));
	assert_int_equal(bx_oci_config_parse("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"}}", "/b", &oc, &err),
			 -1);
	assert_non_null(strstr(err.msg, "process is missing"));
	assert_int_equal(bx_oci_config_parse("{\"ociVersion\": \"1.0.0\", \"root\": {\"path\": \"r\"},"
					     " \"process\": {\"args\": []}}", "/b", &oc, &err), -1);
	assert_non_null(strstr(err.msg, "process.args must be a non-empty array"));
	expect_error("\"env\": [\"NOEQUALS\"]", "", "process.env must be an array of \"NAME=VALUE\"");
	expect_error("\"cwd\": \"relative\"", "", "process.cwd must be an absolute path");
	expect_error("\"user\": {\"uid\": \"root\"}", "", "process.user must have numeric uid and gid");
	expect_error("\"user\": {\"uid\": 0, \"gid\": 0, \"additionalGids\": [\"wheel\"]}", "",
		     "additionalGids must be an array of numeric gids");
	expect_error("\"terminal\": \"yes\"", "", "process.terminal must be true or false");
}

static void test_process_parse(void **state)
{
	struct bx_spec s;
	struct bx_err err;
	bx_spec_init(&s);
	assert_int_equal(bx_oci_process_parse("{\"args\": [\"ls\"], \"cwd\": \"/tmp\", \"terminal\": true,"
					      " \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 7, \"hard\": 7}]}",
					      &s, &err), 0);
	assert_string_equal(s.args[0], "ls");
	assert_string_equal(s.cwd, "/tmp");
	assert_true(s.tty);
	assert_int_equal(s.nrlimits, 1);
	bx_spec_free(&s);
	bx_spec_init(&s);
	assert_int_equal(bx_oci_process_parse("{\"args\": ", &s, &err), -1);
	assert_non_null(strstr(err.msg, "invalid process JSON"));
	bx_spec_free(&s);
}

static void test_size_and_signal(void **state)
{
	assert_int_equal(bx_oci_size_mb("512m"), 512);
	assert_int_equal(bx_oci_size_mb("1g"), 1024);
	assert_int_equal(bx_oci_size_mb("1GB"), 1024);
	assert_int_equal(bx_oci_size_mb("1073741824"), 1024);
	assert_int_equal(bx_oci_size_mb("2048k"), 2);
	assert_int_equal(bx_oci_size_mb("m"), -1);
	assert_int_equal(bx_oci_size_mb("12x"), -1);
	assert_int_equal(bx_oci_size_mb("-1"), -1);
	assert_int_equal(bx_oci_size_mb("99999999999g"), -1);
	assert_int_equal(bx_oci_signal_parse("KILL"), SIGKILL);
	assert_int_equal(bx_oci_signal_parse("SIGTERM"), SIGTERM);
	assert_int_equal(bx_oci_signal_parse("hup"), SIGHUP);
	assert_int_equal(bx_oci_signal_parse("9"), 9);
	assert_int_equal(bx_oci_signal_parse("RTMIN+2"), SIGRTMIN + 2);
	assert_int_equal(bx_oci_signal_parse("NOTASIGNAL"), -1);
	assert_int_equal(bx_oci_signal_parse("0"), -1);
	assert_int_equal(bx_oci_signal_parse("65"), -1);
	assert_int_equal(bx_oci_signal_parse(""), -1);
}

/* Found by fuzz_oci_config (UBSan): "RTMIN2147483647" overflowed int in
 * SIGRTMIN + offset, and "RTMIN4294967297" was cut to RTMIN+1. */
static void test_signal_rt_offset_range(void **state)
{
	assert_int_equal(bx_oci_signal_parse("RTMIN2147483647"), -1);
	assert_int_equal(bx_oci_signal_parse("SIGRTMAX-2147483648"), -1);
	assert_int_equal(bx_oci_signal_parse("RTMIN4294967297"), -1);
	assert_int_equal(bx_oci_signal_parse("RTMIN+"), -1);
	assert_int_equal(bx_oci_signal_parse("RTMAX-1"), SIGRTMAX - 1);
	assert_int_equal(bx_oci_signal_parse("RTMIN"), SIGRTMIN);
	assert_int_equal(bx_oci_signal_parse("RTMAX+1"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_defaults),
		cmocka_unit_test(test_process_fields),
		cmocka_unit_test(test_rlimits),
		cmocka_unit_test(test_mounts),
		cmocka_unit_test(test_resources_and_annotations),
		cmocka_unit_test(test_namespaces),
		cmocka_unit_test(test_rejected_fields),
		cmocka_unit_test(test_hooks),
		cmocka_unit_test(test_capabilities),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_process_parse),
		cmocka_unit_test(test_size_and_signal),
		cmocka_unit_test(test_signal_rt_offset_range),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
