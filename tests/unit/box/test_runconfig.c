/* Docker's merge of image config and run flags. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "box/runconfig.h"

static char *ep_img[] = {"/entry", "--flag", NULL};
static char *cmd_img[] = {"default", "cmd", NULL};
static char *env_img[] = {"PATH=/bin", "A=image", "B=image", NULL};

static const char *fake_getenv(const char *name)
{
	if (!strcmp(name, "FROM_HOST"))
		return "host-value";
	return NULL;
}

static struct bx_image_config image(void)
{
	struct bx_image_config c = {.entrypoint = ep_img, .cmd = cmd_img, .env = env_img, .workdir = "/srv", .user = "app"};
	return c;
}

static void assert_args(const struct bx_spec *s, const char *const *want)
{
	size_t n = 0;
	while (want[n])
		n++;
	assert_int_equal(s->nargs, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->args[i], want[i]);
}

static void build(const struct bx_image_config *img, const struct bx_run_opts *o, struct bx_spec *s)
{
	struct bx_err err = {0};
	bx_spec_init(s);
	assert_int_equal(bx_runconfig_build(img, o, fake_getenv, s, NULL, &err), 0);
}

static void test_image_defaults(void **state)
{
	struct bx_image_config img = image();
	struct bx_run_opts o = {0};
	struct bx_spec s;
	build(&img, &o, &s);
	assert_args(&s, (const char *[]){"/entry", "--flag", "default", "cmd", NULL});
	assert_string_equal(s.cwd, "/srv");
	assert_string_equal(s.user, "app");
	bx_spec_free(&s);
}

static void test_command_replaces_cmd_only(void **state)
{
	struct bx_image_config img = image();
	char *cmd[] = {"echo", "hi", NULL};
	struct bx_run_opts o = {.command = cmd};
	struct bx_spec s;
	build(&img, &o, &s);
	assert_args(&s, (const char *[]){"/entry", "--flag", "echo", "hi", NULL});
	bx_spec_free(&s);
}

static void test_entrypoint_drops_image_cmd(void **state)
{
	struct bx_image_config img = image();
	struct bx_run_opts o = {.entrypoint = "/bin/sh"};
	struct bx_spec s;
	build(&img, &o, &s);
	assert_args(&s, (const char *[]){"/bin/sh", NULL});
	bx_spec_free(&s);
}

static void test_empty_entrypoint_clears(void **state)
{
	struct bx_image_config img = image();
	char *cmd[] = {"ls", NULL};
	struct bx_run_opts o = {.entrypoint = "", .command = cmd};
	struct bx_spec s;
	build(&img, &o, &s);
	assert_args(&s, (const char *[]){"ls", NULL});
	bx_spec_free(&s);
}

static void test_no_command_is_error(void **state)
{
	struct bx_image_config img = {0};
	struct bx_run_opts o = {0};
	struct bx_spec s;
	struct bx_err err = {0};
	bx_spec_init(&s);
	assert_int_equal(bx_runconfig_build(&img, &o, fake_getenv, &s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "no command specified"));
	bx_spec_free(&s);
}

static void assert_strv(char *const *v, const char *const *want)
{
	size_t n = 0;
	for (; want[n]; n++) {
		assert_non_null(v[n]);
		assert_string_equal(v[n], want[n]);
	}
	assert_null(v[n]);
}

/* Docker 20.10: `create -e A=flag -e C=new -e FROM_HOST -e MISSING` records
 * Config.Env as the user's variables first, then the image's they don't
 * name; the process gets PATH, HOSTNAME, then the rest in that order, and a
 * bare MISSING (unset in the caller) unsets it. */
static void test_env_override_in_place(void **state)
{
	struct bx_image_config img = image();
	char *env[] = {"A=flag", "C=new", "FROM_HOST", "MISSING", NULL};
	struct bx_run_opts o = {.env = env, .workdir = "/tmp", .user = "1000:50", .hostname = "h"};
	struct bx_spec s;
	struct bx_run_record rec = {0};
	struct bx_err err = {0};
	bx_spec_init(&s);
	assert_int_equal(bx_runconfig_build(&img, &o, fake_getenv, &s, &rec, &err), 0);
	assert_strv(rec.env, (const char *[]){"A=flag", "C=new", "FROM_HOST=host-value", "MISSING", "PATH=/bin",
					      "B=image", NULL});
	assert_strv(s.env, (const char *[]){"PATH=/bin", "HOSTNAME=h", "A=flag", "C=new", "FROM_HOST=host-value",
					    "B=image", NULL});
	assert_string_equal(s.cwd, "/tmp");
	assert_string_equal(s.user, "1000:50");
	bx_run_record_free(&rec);
	bx_spec_free(&s);
}

/* a name given twice keeps its first place with the last value; a terminal
 * adds TERM=xterm after HOSTNAME unless Config.Env sets TERM (in place);
 * with no PATH anywhere the process gets Docker's default */
static void test_env_defaults_and_duplicates(void **state)
{
	char *img_env[] = {"X=img", NULL};
	struct bx_image_config img = {.cmd = cmd_img, .env = img_env};
	char *env[] = {"A=1", "B=2", "A=3", "HOSTNAME=mine", NULL};
	struct bx_run_opts o = {.env = env, .hostname = "h", .tty = true};
	struct bx_spec s;
	struct bx_run_record rec = {0};
	struct bx_err err = {0};
	bx_spec_init(&s);
	assert_int_equal(bx_runconfig_build(&img, &o, fake_getenv, &s, &rec, &err), 0);
	assert_strv(rec.env, (const char *[]){"A=3", "B=2", "HOSTNAME=mine", "X=img", NULL});
	assert_strv(s.env, (const char *[]){"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
					    "HOSTNAME=mine", "TERM=xterm", "A=3", "B=2", "X=img", NULL});
	bx_run_record_free(&rec);
	bx_spec_free(&s);
}

/* Docker 20.10 records `--entrypoint echo IMAGE hi there` as Entrypoint
 * ["echo"], Cmd ["hi","there"]; `--entrypoint echo IMAGE` as Cmd null;
 * `--entrypoint "" IMAGE ls` as Entrypoint null, Cmd ["ls"]; with no flags
 * the image's Entrypoint and Cmd. */
static void test_record_entrypoint_and_cmd(void **state)
{
	struct bx_image_config img = image();
	char *cmd[] = {"hi", "there", NULL};
	struct {
		const char *entrypoint;
		char **command;
		const char *const *want_ep, *const *want_cmd;
	} cases[] = {
		{"echo", cmd, (const char *[]){"echo", NULL}, (const char *[]){"hi", "there", NULL}},
		{"echo", NULL, (const char *[]){"echo", NULL}, NULL},
		{"", cmd, NULL, (const char *[]){"hi", "there", NULL}},
		{NULL, NULL, (const char *[]){"/entry", "--flag", NULL}, (const char *[]){"default", "cmd", NULL}},
		{NULL, cmd, (const char *[]){"/entry", "--flag", NULL}, (const char *[]){"hi", "there", NULL}},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct bx_run_opts o = {.entrypoint = cases[i].entrypoint, .command = cases[i].command};
		struct bx_spec s;
		struct bx_run_record rec = {0};
		struct bx_err err = {0};
		bx_spec_init(&s);
		assert_int_equal(bx_runconfig_build(&img, &o, fake_getenv, &s, &rec, &err), 0);
		if (cases[i].want_ep)
			assert_strv(rec.entrypoint, cases[i].want_ep);
		else
			assert_null(rec.entrypoint);
		if (cases[i].want_cmd)
			assert_strv(rec.cmd, cases[i].want_cmd);
		else
			assert_null(rec.cmd);
		bx_run_record_free(&rec);
		bx_spec_free(&s);
	}
}

static void test_relative_workdir_rejected(void **state)
{
	struct bx_image_config img = image();
	struct bx_run_opts o = {.workdir = "tmp"};
	struct bx_spec s;
	struct bx_err err = {0};
	bx_spec_init(&s);
	assert_int_equal(bx_runconfig_build(&img, &o, fake_getenv, &s, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "absolute"));
	bx_spec_free(&s);
}

static void test_envfile(void **state)
{
	char **env = NULL;
	size_t n = 0;
	struct bx_err err = {0};
	const char *text = "# comment\n\nK1=v1\r\nFROM_HOST\nUNSET_ONE\n  K2=with = sign\n";
	assert_int_equal(bx_envfile_parse(text, "f.env", fake_getenv, &env, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_string_equal(env[0], "K1=v1");
	assert_string_equal(env[1], "FROM_HOST=host-value");
	assert_string_equal(env[2], "UNSET_ONE"); /* kept bare, as Docker does: it unsets the name */
	assert_string_equal(env[3], "K2=with = sign");
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

static void test_envfile_bad_line(void **state)
{
	char **env = NULL;
	size_t n = 0;
	struct bx_err err = {0};
	assert_int_equal(bx_envfile_parse("OK=1\nBAD NAME=1\n", "f.env", fake_getenv, &env, &n, &err), -1);
	assert_non_null(strstr(err.msg, "f.env:2"));
	for (size_t i = 0; i < n; i++)
		free(env[i]);
	free(env);
}

/* regression: an env file merged into a short image env, then -e flags,
 * overflowed the list (its capacity was mis-tracked) */
static void test_envfile_then_flags(void **state)
{
	char *img_env[] = {"PATH=/bin", NULL};
	char path[] = "/tmp/test_runconfig.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	dprintf(fd, "F1=1\nF2=2\n");
	close(fd);
	char *files[] = {path, NULL};
	char *env[] = {"E1=1", "E2=2", "E3=3", "E4=4", NULL};
	struct bx_image_config img = {.cmd = cmd_img, .env = img_env};
	struct bx_run_opts o = {.env_files = files, .env = env, .hostname = "h"};
	struct bx_spec s;
	build(&img, &o, &s);
	unlink(path);
	assert_int_equal(s.nenv, 8);
	assert_string_equal(s.env[1], "HOSTNAME=h");
	assert_string_equal(s.env[7], "E4=4");
	bx_spec_free(&s);
}

/* merging an env file into a long image env */
static void test_envfile_merged_into_long_env(void **state)
{
	char *img_env[40];
	char bufs[39][16];
	for (int i = 0; i < 39; i++) {
		snprintf(bufs[i], sizeof(bufs[i]), "IMG%d=%d", i, i);
		img_env[i] = bufs[i];
	}
	img_env[39] = NULL;
	char path[] = "/tmp/test_runconfig.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	for (int i = 0; i < 30; i++)
		dprintf(fd, "FILE%d=%d\nIMG%d=file\n", i, i, i);
	close(fd);
	char *files[] = {path, NULL};
	struct bx_image_config img = {.cmd = cmd_img, .env = img_env};
	struct bx_run_opts o = {.env_files = files};
	struct bx_spec s;
	build(&img, &o, &s);
	unlink(path);
	/* Config.Env: the file's 60 lines, then the 9 image variables it does not name */
	assert_int_equal(s.nenv, 70);
	assert_string_equal(s.env[1], "FILE0=0");
	assert_string_equal(s.env[2], "IMG0=file");
	assert_string_equal(s.env[60], "IMG29=file");
	assert_string_equal(s.env[61], "IMG30=30");
	assert_string_equal(s.env[69], "IMG38=38");
	bx_spec_free(&s);
}

/* --sysctl: Docker's whitelist and words; HostConfig.Sysctls */
static void test_sysctls(void **state)
{
	struct bx_image_config img = image();
	char *ok[] = {"net.core.somaxconn=1024", "kernel.shmmax=1000", "fs.mqueue.msg_max=20", NULL};
	struct bx_run_opts o = {.sysctls = ok};
	struct bx_spec s;
	struct bx_err err;
	assert_int_equal(bx_run_opts_check(&o, fake_getenv, &err), 0);
	build(&img, &o, &s);
	assert_int_equal(s.nsysctls, 3);
	assert_string_equal(s.sysctls[1], "kernel.shmmax=1000");
	bx_spec_free(&s);
	json_t *j = bx_sysctls_json(ok);
	assert_string_equal(json_string_value(json_object_get(j, "net.core.somaxconn")), "1024");
	json_decref(j);
	static const char *const bad[] = {"vm.swappiness=1", "kernel.hostname=x", "net=1", "foo", "=1",
					  "net.core/../../x=1", "net..x=1", "kernel.shmmaxx=1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *one[] = {(char *)bad[i], NULL};
		o.sysctls = one;
		assert_int_equal(bx_run_opts_check(&o, fake_getenv, &err), -1);
		if (!strstr(err.msg, "is not whitelisted"))
			fail_msg("%s: %s", bad[i], err.msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_image_defaults),
		cmocka_unit_test(test_command_replaces_cmd_only),
		cmocka_unit_test(test_entrypoint_drops_image_cmd),
		cmocka_unit_test(test_empty_entrypoint_clears),
		cmocka_unit_test(test_no_command_is_error),
		cmocka_unit_test(test_env_override_in_place),
		cmocka_unit_test(test_env_defaults_and_duplicates),
		cmocka_unit_test(test_record_entrypoint_and_cmd),
		cmocka_unit_test(test_relative_workdir_rejected),
		cmocka_unit_test(test_envfile),
		cmocka_unit_test(test_envfile_bad_line),
		cmocka_unit_test(test_envfile_merged_into_long_env),
		cmocka_unit_test(test_envfile_then_flags),
		cmocka_unit_test(test_sysctls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
