/* Unit tests for the agent's pure logic: user/group resolution, PATH search,
 * exit-code mapping and the environment. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>

#include "agent/pure/exec.h"
#include "agent/pure/user.h"

static const char *PASSWD = "root:x:0:0:root:/root:/bin/sh\n"
			    "# a comment\n"
			    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
			    "app:x:1000:1000:App:/home/app:/bin/sh\n"
			    "nohome:x:1001:1001::::\n"
			    "broken:x:notanumber:1\n"
			    "last:x:2000:2000::/home/last:/bin/sh"; /* no trailing newline */
static const char *GROUP = "root:x:0:\n"
			   "wheel:x:10:root,app\n"
			   "app:x:1000:\n"
			   "audio:x:29:other,app\n"
			   "staff:x:50:application\n";

static void test_root_default(void **state)
{
	struct bx_user u;
	struct bx_err e = {0};
	assert_int_equal(bx_user_resolve("", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 0);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/root");
	/* root is a member of wheel */
	assert_int_equal(u.ngroups, 2);
	assert_int_equal(u.groups[0], 0);
	assert_int_equal(u.groups[1], 10);
	assert_int_equal(bx_user_resolve(NULL, "", "", &u, &e), 0);
	assert_int_equal(u.uid, 0);
	assert_string_equal(u.home, "/");
}

static void test_by_name(void **state)
{
	struct bx_user u;
	struct bx_err e = {0};
	assert_int_equal(bx_user_resolve("app", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 1000);
	assert_string_equal(u.home, "/home/app");
	/* primary first, then memberships; "application" in staff is not "app" */
	assert_int_equal(u.ngroups, 3);
	assert_int_equal(u.groups[0], 1000);
	assert_int_equal(u.groups[1], 10);
	assert_int_equal(u.groups[2], 29);
	assert_int_equal(bx_user_resolve("last", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 2000);
	assert_int_equal(bx_user_resolve("nohome", PASSWD, GROUP, &u, &e), 0);
	assert_string_equal(u.home, "/");
}

static void test_by_uid(void **state)
{
	struct bx_user u;
	struct bx_err e = {0};
	assert_int_equal(bx_user_resolve("1", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 1);
	assert_int_equal(u.gid, 1);
	assert_string_equal(u.home, "/usr/sbin");
	/* a uid absent from passwd: gid 0, HOME / */
	assert_int_equal(bx_user_resolve("4242", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 0);
	assert_string_equal(u.home, "/");
	assert_int_equal(u.ngroups, 1);
}

static void test_with_group(void **state)
{
	struct bx_user u;
	struct bx_err e = {0};
	assert_int_equal(bx_user_resolve("1000:50", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 1000);
	assert_int_equal(u.gid, 50);
	assert_int_equal(u.ngroups, 1); /* an explicit group: no memberships */
	assert_int_equal(bx_user_resolve("app:audio", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.gid, 29);
	assert_int_equal(bx_user_resolve("4242:wheel", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.uid, 4242);
	assert_int_equal(u.gid, 10);
	assert_int_equal(bx_user_resolve("root:7", PASSWD, GROUP, &u, &e), 0);
	assert_int_equal(u.gid, 7);
}

static void test_unknown(void **state)
{
	struct bx_user u;
	struct bx_err e = {0};
	assert_int_equal(bx_user_resolve("nosuch", PASSWD, GROUP, &u, &e), -1);
	assert_int_equal(e.exit_code, 125);
	assert_string_equal(e.msg, "unable to find user nosuch: no matching entries in passwd file");
	assert_int_equal(bx_user_resolve("nosuch:wheel", PASSWD, GROUP, &u, &e), -1);
	assert_string_equal(e.msg, "unable to find user nosuch: no matching entries in passwd file");
	assert_int_equal(bx_user_resolve("app:nogroup", PASSWD, GROUP, &u, &e), -1);
	assert_int_equal(e.exit_code, 125);
	assert_string_equal(e.msg, "unable to find group nogroup: no matching entries in group file");
	/* a broken line never matches */
	assert_int_equal(bx_user_resolve("broken", PASSWD, GROUP, &u, &e), -1);
	/* no passwd file at all */
	assert_int_equal(bx_user_resolve("app", "", "", &u, &e), -1);
}

static void test_parse_id(void **state)
{
	unsigned v;
	assert_int_equal(bx_parse_id("0", 1, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(bx_parse_id("4294967294", 10, &v), 0);
	assert_int_equal(bx_parse_id("4294967295", 10, &v), -1);
	assert_int_equal(bx_parse_id("99999999999", 11, &v), -1);
	assert_int_equal(bx_parse_id("12a", 3, &v), -1);
	assert_int_equal(bx_parse_id("", 0, &v), -1);
}

/* fake filesystem for PATH search: the listed paths are executable */
static int fake_check(const char *path, void *ud)
{
	for (const char *const *p = ud; *p; p++)
		if (strcmp(*p, path) == 0)
			return 0;
	return ENOENT;
}

/* a file that is there but not executable (a directory, mode 0644) */
static int deny_check(const char *path, void *ud)
{
	(void)path;
	(void)ud;
	return EACCES;
}

static void test_path_search(void **state)
{
	const char *const fs[] = {"/usr/bin/ls", "/bin/ls", "/bin/sh", "./tool", NULL};
	char out[256];
	struct bx_err e = {0};
	assert_int_equal(bx_path_search("ls", "/usr/local/bin:/usr/bin:/bin", fake_check, (void *)fs, out,
					sizeof(out), &e), 0);
	assert_string_equal(out, "/usr/bin/ls");
	assert_int_equal(bx_path_search("sh", NULL, fake_check, (void *)fs, out, sizeof(out), &e), 0);
	assert_string_equal(out, "/bin/sh");
	/* an empty PATH element means the current directory */
	assert_int_equal(bx_path_search("tool", "/bin::/usr/bin", fake_check, (void *)fs, out, sizeof(out), &e), 0);
	assert_string_equal(out, "./tool");
	/* a name with '/' is used as is, once it is there and executable,
	 * with runc's words (Go's LookPath) when it is not */
	assert_int_equal(bx_path_search("./tool", "/bin", fake_check, (void *)fs, out, sizeof(out), &e), 0);
	assert_string_equal(out, "./tool");
	assert_int_equal(bx_path_search("./x/y", "/bin", fake_check, (void *)fs, out, sizeof(out), &e), -1);
	assert_int_equal(e.exit_code, 127);
	assert_string_equal(e.msg, "exec: \"./x/y\": stat ./x/y: no such file or directory");
	assert_int_equal(bx_path_search("/etc", "/bin", deny_check, NULL, out, sizeof(out), &e), -1);
	assert_int_equal(e.exit_code, 126);
	assert_string_equal(e.msg, "exec: \"/etc\": permission denied");
	assert_int_equal(bx_path_search("nosuch", "/bin:/usr/bin", fake_check, (void *)fs, out, sizeof(out), &e),
			 -1);
	assert_int_equal(e.exit_code, 127);
	assert_string_equal(e.msg, "exec: \"nosuch\": executable file not found in $PATH");
	assert_int_equal(bx_path_search("", "/bin", fake_check, (void *)fs, out, sizeof(out), &e), -1);
	assert_int_equal(e.exit_code, 127);
	/* a candidate that does not fit the buffer is skipped, not truncated */
	char small[8];
	assert_int_equal(bx_path_search("ls", "/usr/bin:/bin", fake_check, (void *)fs, small, sizeof(small), &e), 0);
	assert_string_equal(small, "/bin/ls");
}

static void test_exec_errors(void **state)
{
	struct bx_err e = {0};
	assert_int_equal(bx_exec_fail(&e, "/etc/passwd", EACCES), -1);
	assert_int_equal(e.exit_code, 126);
	assert_string_equal(e.msg, "exec: \"/etc/passwd\": permission denied");
	assert_int_equal(bx_exec_fail(&e, "/etc", EISDIR), -1);
	assert_int_equal(e.exit_code, 126);
	assert_int_equal(bx_exec_fail(&e, "/bin/data", ENOEXEC), -1);
	assert_int_equal(e.exit_code, 126);
	assert_string_equal(e.msg, "exec: \"/bin/data\": exec format error");
	assert_int_equal(bx_exec_fail(&e, "/nosuch", ENOENT), -1);
	assert_int_equal(e.exit_code, 127);
	assert_string_equal(e.msg, "exec: \"/nosuch\": no such file or directory");
	assert_string_equal(bx_go_errno_text(ENOTDIR), "not a directory");
	assert_int_equal(bx_exec_errno_code(ENOTDIR), 127);
	assert_int_equal(bx_exec_errno_code(EPERM), 126);
}

static void test_exit_status(void **state)
{
	assert_int_equal(bx_exit_code_from_status(0), 0);
	assert_int_equal(bx_exit_code_from_status(3 << 8), 3);
	assert_int_equal(bx_exit_code_from_status(9), 137);  /* killed by SIGKILL */
	assert_int_equal(bx_exit_code_from_status(15), 143); /* SIGTERM */
	assert_int_equal(bx_exit_code_from_status(9 | 0x80), 137); /* with core flag */
}

static void test_env(void **state)
{
	char home[64];
	char *env1[] = {"A=1", NULL};
	char **out = bx_env_build(env1, "/root", home, sizeof(home));
	assert_non_null(out);
	assert_string_equal(out[0], "A=1");
	assert_string_equal(out[1], "PATH=" BX_DEFAULT_PATH);
	assert_string_equal(out[2], "HOME=/root");
	assert_null(out[3]);
	assert_string_equal(bx_env_get(out, "HOME"), "/root");
	assert_null(bx_env_get(out, "HOM"));
	free(out);
	char *env2[] = {"PATH=/x", "HOME=/h", NULL};
	out = bx_env_build(env2, "/root", home, sizeof(home));
	assert_string_equal(out[0], "PATH=/x");
	assert_string_equal(out[1], "HOME=/h");
	assert_null(out[2]);
	free(out);
	out = bx_env_build(NULL, "/", home, sizeof(home));
	assert_string_equal(out[0], "PATH=" BX_DEFAULT_PATH);
	assert_string_equal(out[1], "HOME=/");
	free(out);
	/* runc 1.1.5 for ["PATH=/bin","A=1","B=x","A=2","HOME="]: PATH=/bin A=2 B=x HOME=/root */
	char *env3[] = {"PATH=/bin", "A=1", "B=x", "A=2", "HOME=", NULL};
	out = bx_env_build(env3, "/root", home, sizeof(home));
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[1], "A=2");
	assert_string_equal(out[2], "B=x");
	assert_string_equal(out[3], "HOME=/root");
	assert_null(out[4]);
	free(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_root_default), cmocka_unit_test(test_by_name),
		cmocka_unit_test(test_by_uid),       cmocka_unit_test(test_with_group),
		cmocka_unit_test(test_unknown),      cmocka_unit_test(test_parse_id),
		cmocka_unit_test(test_path_search),  cmocka_unit_test(test_exec_errors),
		cmocka_unit_test(test_exit_status),  cmocka_unit_test(test_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
