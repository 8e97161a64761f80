/* POST /containers/create's body into box options: what the docker CLI
 * sends maps as its flags do; whatever boxvm cannot honour is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/createmap.h"

/* the shape docker CLI 20.10 sends for
 * `docker run -d --name web -p 8080:80 -e A=1 -l k=v -v /tmp:/data:ro --rm busybox echo hi`:
 * every field it knows, most of them unset */
static const char *cli_body =
	"{\"Hostname\":\"\",\"Domainname\":\"\",\"User\":\"\",\"AttachStdin\":false,\"AttachStdout\":true,"
	"\"AttachStderr\":true,\"ExposedPorts\":{\"80/tcp\":{}},\"Tty\":false,\"OpenStdin\":false,\"StdinOnce\":false,"
	"\"Env\":[\"A=1\"],\"Cmd\":[\"echo\",\"hi\"],\"Image\":\"busybox\",\"Volumes\":{},\"WorkingDir\":\"\","
	"\"Entrypoint\":null,\"OnBuild\":null,\"Labels\":{\"k\":\"v\"},"
	"\"HostConfig\":{\"Binds\":[\"/tmp:/data:ro\"],\"ContainerIDFile\":\"\",\"LogConfig\":{\"Type\":\"\",\"Config\":{}},"
	"\"NetworkMode\":\"default\",\"PortBindings\":{\"80/tcp\":[{\"HostIp\":\"\",\"HostPort\":\"8080\"}]},"
	"\"RestartPolicy\":{\"Name\":\"no\",\"MaximumRetryCount\":0},\"AutoRemove\":true,\"VolumeDriver\":\"\","
	"\"VolumesFrom\":null,\"CapAdd\":null,\"CapDrop\":null,\"CgroupnsMode\":\"\",\"Dns\":[],\"DnsOptions\":[],"
	"\"DnsSearch\":[],\"ExtraHosts\":null,\"GroupAdd\":null,\"IpcMode\":\"\",\"Cgroup\":\"\",\"Links\":null,"
	"\"OomScoreAdj\":0,\"PidMode\":\"\",\"Privileged\":false,\"PublishAllPorts\":false,\"ReadonlyRootfs\":false,"
	"\"SecurityOpt\":null,\"UTSMode\":\"\",\"UsernsMode\":\"\",\"ShmSize\":0,\"ConsoleSize\":[0,0],\"Isolation\":\"\","
	"\"CpuShares\":0,\"Memory\":0,\"NanoCpus\":0,\"CgroupParent\":\"\",\"BlkioWeight\":0,\"BlkioWeightDevice\":[],"
	"\"MemorySwappiness\":-1,\"OomKillDisable\":false,\"PidsLimit\":null,\"Ulimits\":null,\"MaskedPaths\":null,"
	"\"ReadonlyPaths\":null},\"NetworkingConfig\":{\"EndpointsConfig\":{}}}";

static int parse(const char *text, const char *name, struct api_create *c, struct bx_err *err)
{
	json_t *body = json_loads(text, 0, NULL);
	assert_non_null(body);
	int rc = api_create_parse(body, name, c, err);
	json_decref(body);
	return rc;
}

static void docker_cli_body_maps_as_its_flags(void **state)
{
	(void)state;
	struct api_create *c = calloc(1, sizeof(*c));
	struct bx_err err = {0};
	assert_int_equal(parse(cli_body, "/web", c, &err), 0);
	assert_string_equal(c->image, "busybox");
	assert_string_equal(c->lc.name, "web");
	assert_string_equal(c->ro.command[0], "echo");
	assert_string_equal(c->ro.command[1], "hi");
	assert_null(c->ro.command[2]);
	assert_string_equal(c->ro.env[0], "A=1");
	assert_null(c->ro.entrypoint);
	assert_string_equal(c->lc.labels[0], "k=v");
	assert_string_equal(c->nm.volumes[0], "/tmp:/data:ro");
	assert_string_equal(c->nm.publish[0], "8080:80/tcp");
	assert_string_equal(c->nm.network, "default");
	assert_true(c->bo.auto_remove);
	assert_int_equal(c->bo.mem_mb, 512); /* Memory 0: the default */
	assert_int_equal(c->bo.cpus, 2);
	assert_int_equal(c->lc.cfg.restart.kind, BX_RESTART_NO);
	api_create_free(c);
	free(c);
}

static void sizes_restart_and_logs(void **state)
{
	(void)state;
	struct api_create *c = calloc(1, sizeof(*c));
	struct bx_err err = {0};
	assert_int_equal(parse("{\"Image\":\"busybox\",\"Entrypoint\":[\"\"],\"StopTimeout\":3,"
			       "\"HostConfig\":{\"Memory\":268435456,\"NanoCpus\":1500000000,"
			       "\"RestartPolicy\":{\"Name\":\"on-failure\",\"MaximumRetryCount\":2},"
			       "\"Tmpfs\":{\"/run\":\"size=1m\",\"/t\":\"\"},\"Mounts\":[{\"Type\":\"volume\",\"Source\":\"v\","
			       "\"Target\":\"/v\",\"ReadOnly\":true},{\"Type\":\"tmpfs\",\"Target\":\"/tm\"}],"
			       "\"LogConfig\":{\"Type\":\"json-file\",\"Config\":{\"max-size\":\"1m\"}},"
			       "\"PortBindings\":{\"53/udp\":[{\"HostIp\":\"127.0.0.1\",\"HostPort\":\"\"}],\"81/tcp\":[]}}}",
			       NULL, c, &err),
			 0);
	assert_null(c->lc.name);
	assert_string_equal(c->ro.entrypoint, ""); /* --entrypoint "": cleared */
	assert_int_equal(c->lc.stop_timeout, 3);
	assert_int_equal(c->bo.mem_mb, 256 + 128); /* the limit and the VM's overhead */
	assert_int_equal(c->res.memory, 268435456);
	assert_int_equal(c->bo.cpus, 2); /* 1.5 CPUs: whole vCPUs, rounded up */
	assert_int_equal(c->lc.nano_cpus, 1500000000LL);
	assert_int_equal(c->lc.cfg.restart.kind, BX_RESTART_ON_FAILURE);
	assert_int_equal(c->lc.cfg.restart.max_retries, 2);
	assert_string_equal(c->nm.volumes[0], "v:/v:ro");
	assert_string_equal(c->nm.tmpfs[0], "/tm");
	assert_string_equal(c->nm.tmpfs[1], "/run:size=1m");
	assert_string_equal(c->nm.tmpfs[2], "/t");
	assert_string_equal(c->lc.log_opts[0], "max-size=1m");
	assert_string_equal(c->nm.publish[0], "127.0.0.1::53/udp");
	assert_string_equal(c->nm.publish[1], "81/tcp");
	api_create_free(c);
	free(c);
}

/* the docker CLI's body for --group-add 7 --group-add daemon --oom-score-adj 5 --shm-size 32m
 * --security-opt systempaths=unconfined --security-opt seccomp=unconfined */
static void confinement_fields(void **state)
{
	(void)state;
	struct api_create *c = calloc(1, sizeof(*c));
	struct bx_err err = {0};
	assert_int_equal(parse("{\"Image\":\"b\",\"HostConfig\":{\"GroupAdd\":[\"7\",\"daemon\"],\"OomScoreAdj\":5,"
			       "\"ShmSize\":33554432,\"MaskedPaths\":[],\"ReadonlyPaths\":[\"/proc/sys\"],"
			       "\"SecurityOpt\":[\"seccomp=unconfined\"]}}", NULL, c, &err), 0);
	assert_string_equal(c->sec.group_add[1], "daemon");
	assert_int_equal(c->sec.oom_score_adj, 5);
	assert_false(c->sec.init_given);
	assert_int_equal(c->sec.shm_size, 33554432);
	assert_true(c->sec.masked_given && !c->sec.masked_paths);
	assert_true(c->sec.readonly_given && !strcmp(c->sec.readonly_paths[0], "/proc/sys"));
	struct bx_spec s;
	bx_spec_init(&s);
	assert_int_equal(bx_secopts_confine(&c->sec, &s, &err), 0);
	assert_true(s.nmasked_paths == 0 && s.nreadonly_paths == 1 && s.ngroups == 1 && s.groups[0] == 7);
	assert_true(s.ngroup_names == 1 && s.oom_score_adj_set && s.oom_score_adj == 5 && s.shm_size == 33554432);
	bx_spec_free(&s);
	api_create_free(c);
	/* not given: Docker's paths */
	memset(c, 0, sizeof(*c));
	assert_int_equal(parse("{\"Image\":\"b\",\"HostConfig\":{\"MaskedPaths\":null}}", NULL, c, &err), 0);
	bx_spec_init(&s);
	assert_int_equal(bx_secopts_confine(&c->sec, &s, &err), 0);
	assert_true(s.nmasked_paths == 10 && s.nreadonly_paths == 5 && !s.oom_score_adj_set);
	bx_spec_free(&s);
	api_create_free(c);
	free(c);
}

/* each of these asks for something boxvm cannot do: a 400 naming it */
static void unsupported_fields_are_refused(void **state)
{
	(void)state;
	static const struct {
		const char *body, *says;
	} cases[] = {
		{"{\"Image\":\"b\",\"HostConfig\":{\"CapAdd\":\"NET_ADMIN\"}}", "HostConfig.CapAdd"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"Init\":\"yes\"}}", "HostConfig.Init"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"PublishAllPorts\":true}}", "HostConfig.PublishAllPorts"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"MemorySwappiness\":10}}", "HostConfig.MemorySwappiness"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"LogConfig\":{\"Type\":\"syslog\"}}}", "syslog"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"Memory\":1000}}", "Minimum memory limit allowed is 6MB"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"Memory\":67108864,\"MemorySwap\":134217728}}", "no swap"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"CpusetCpus\":\"2\"}}", "available: 0-1"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"PidsLimit\":\"9\"}}", "HostConfig.PidsLimit"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"npipe\",\"Target\":\"/x\"}]}}", "Type"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/a\",\"Target\":\"/x\","
		 "\"BindOptions\":{\"Propagation\":\"shared\"}}]}}", "BindOptions"},
		{"{\"Image\":\"b\",\"HostConfig\":{\"AutoRemove\":true,\"RestartPolicy\":{\"Name\":\"always\"}}}", "AutoRemove"},
		{"{\"Image\":\"b\",\"Domainname\":\"example.com\"}", "Config.Domainname"},
		{"{\"Image\":\"b\",\"MacAddress\":\"02:42:ac:11:00:02\"}", "Config.MacAddress"},
		{"{\"Image\":\"b\",\"Entrypoint\":[\"sh\",\"-c\"]}", "Entrypoint"},
		{"{\"Image\":\"b\",\"Cmd\":\"echo hi\"}", "Config.Cmd"},
		{"{\"Cmd\":[\"true\"]}", "Config.Image is required"},
		{"{\"Image\":\"b\",\"NetworkingConfig\":{\"EndpointsConfig\":{\"other\":{}}}}", "NetworkMode"},
		{"[1]", "JSON object"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct api_create *c = calloc(1, sizeof(*c));
		struct bx_err err = {0};
		assert_int_equal(parse(cases[i].body, NULL, c, &err), -1);
		if (!strstr(err.msg, cases[i].says))
			fail_msg("%s: '%s' does not name %s", cases[i].body, err.msg, cases[i].says);
		api_create_free(c);
		free(c);
	}
}

/* docker run -it: stdin and the terminal reach the box (its attach relays them) */
static void stdin_and_terminal(void **state)
{
	(void)state;
	struct api_create *c = calloc(1, sizeof(*c));
	struct bx_err err = {0};
	assert_int_equal(parse("{\"Image\":\"b\",\"OpenStdin\":true,\"Tty\":true,\"HostConfig\":{\"ConsoleSize\":[24,80]}}",
			       NULL, c, &err), 0);
	assert_true(c->ro.stdin_open);
	assert_true(c->ro.tty);
	api_create_free(c);
	free(c);
}

static void networking_config_of_the_named_network(void **state)
{
	(void)state;
	struct api_create *c = calloc(1, sizeof(*c));
	struct bx_err err = {0};
	assert_int_equal(parse("{\"Image\":\"b\",\"HostConfig\":{\"NetworkMode\":\"app\"},\"NetworkingConfig\":"
			       "{\"EndpointsConfig\":{\"app\":{\"Aliases\":[\"db\"],\"IPAMConfig\":{\"IPv4Address\":\"10.9.0.5\"}}}}}",
			       NULL, c, &err),
			 0);
	assert_string_equal(c->nm.network, "app");
	assert_string_equal(c->nm.aliases[0], "db");
	assert_string_equal(c->nm.ip, "10.9.0.5");
	api_create_free(c);
	free(c);
}

/* what docker-compose 1.29 sends for a service with a named volume: the
 * volume's target in Config.Volumes too, which is no anonymous volume then */
static void compose_volumes_are_not_doubled(void **state)
{
	(void)state;
	struct api_create *c = calloc(1, sizeof(*c));
	struct bx_err err = {0};
	assert_int_equal(parse("{\"Image\":\"b\",\"Volumes\":{\"/data\":{},\"/anon\":{},\"/t\":{},\"/h\":{}},"
			       "\"HostConfig\":{\"NetworkMode\":\"p_default\",\"VolumesFrom\":[],\"Links\":[],"
			       "\"Binds\":[\"p_data:/data:rw\",\"/srv:/h\"],\"Tmpfs\":{\"/t\":\"\"},"
			       "\"LogConfig\":{\"Type\":\"\",\"Config\":{}}},\"NetworkingConfig\":{\"EndpointsConfig\":"
			       "{\"p_default\":{\"Aliases\":[\"web\"],\"IPAMConfig\":{}}}}}",
			       NULL, c, &err),
			 0);
	assert_string_equal(c->nm.volumes[0], "p_data:/data:rw");
	assert_string_equal(c->nm.volumes[1], "/srv:/h");
	assert_string_equal(c->nm.volumes[2], "/anon");
	assert_null(c->nm.volumes[3]);
	assert_string_equal(c->nm.aliases[0], "web");
	api_create_free(c);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(docker_cli_body_maps_as_its_flags),
		cmocka_unit_test(sizes_restart_and_logs),
		cmocka_unit_test(unsupported_fields_are_refused),
		cmocka_unit_test(confinement_fields),
		cmocka_unit_test(stdin_and_terminal),
		cmocka_unit_test(networking_config_of_the_named_network),
		cmocka_unit_test(compose_volumes_are_not_doubled),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
