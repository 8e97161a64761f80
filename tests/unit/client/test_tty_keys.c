/* Unit tests for the detach-key parser and scanner (src/client/tty_keys.c) and
 * what an exec inherits from its box (src/agent/pure/exec_defaults.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "agent/pure/exec_defaults.h"
/* the CLI is not a library: its one pure module is compiled in here */
#include "client/tty_keys.h"

static void test_parse(void **state)
{
	struct bx_detach d;
	struct bx_err err;
	assert_int_equal(bx_detach_parse("ctrl-p,ctrl-q", &d, &err), 0);
	assert_int_equal(d.n, 2);
	assert_int_equal(d.keys[0], 16);
	assert_int_equal(d.keys[1], 17);
	assert_int_equal(bx_detach_parse("a,CTRL-@,ctrl-[,ctrl-\\,ctrl-_", &d, &err), 0);
	assert_int_equal(d.n, 5);
	uint8_t want[] = {'a', 0, 27, 28, 31};
	assert_memory_equal(d.keys, want, 5);
	assert_int_equal(bx_detach_parse("", &d, &err), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(bx_detach_parse("ctrl-pp", &d, &err), -1);
	assert_non_null(strstr(err.msg, "ctrl-pp"));
	assert_int_equal(bx_detach_parse("ctrl-p,", &d, &err), -1);
	assert_int_equal(bx_detach_parse("ctrl-1", &d, &err), -1);
}

static size_t scan(struct bx_detach *d, const char *in, size_t len, uint8_t *out, bool *det)
{
	return bx_detach_scan(d, (const uint8_t *)in, len, out, det);
}

static void test_scan(void **state)
{
	struct bx_detach d;
	bx_detach_parse(BX_DETACH_DEFAULT, &d, NULL);
	uint8_t out[64];
	bool det;
	/* plain input passes */
	assert_int_equal(scan(&d, "ls\r", 3, out, &det), 3);
	assert_false(det);
	assert_memory_equal(out, "ls\r", 3);
	/* the sequence in one read: bytes before it are forwarded */
	assert_int_equal(scan(&d, "ab\x10\x11zz", 6, out, &det), 2);
	assert_true(det);
	assert_memory_equal(out, "ab", 2);
	/* split over reads: the held ^P is not forwarded */
	assert_int_equal(scan(&d, "x\x10", 2, out, &det), 1);
	assert_false(det);
	assert_int_equal(scan(&d, "\x11", 1, out, &det), 0);
	assert_true(det);
	/* a broken match forwards what was held, as typed */
	assert_int_equal(scan(&d, "\x10q", 2, out, &det), 2);
	assert_false(det);
	assert_memory_equal(out, "\x10q", 2);
	/* ^P ^P ^Q: the first ^P is input, the rest detaches */
	assert_int_equal(scan(&d, "\x10\x10\x11", 3, out, &det), 1);
	assert_true(det);
	assert_int_equal(out[0], 0x10);
	/* a held prefix at end of input is flushed */
	assert_int_equal(scan(&d, "\x10", 1, out, &det), 0);
	assert_int_equal(bx_detach_flush(&d, out), 1);
	assert_int_equal(out[0], 0x10);
	/* detaching off: everything passes */
	bx_detach_parse("", &d, NULL);
	assert_int_equal(scan(&d, "\x10\x11", 2, out, &det), 2);
	assert_false(det);
	/* a one-key sequence */
	bx_detach_parse("ctrl-a", &d, NULL);
	assert_int_equal(scan(&d, "ab\x01", 3, out, &det), 2);
	assert_true(det);
}

static void spec_with(struct bx_spec *s, const char *const *env, const char *user, const char *cwd)
{
	bx_spec_init(s);
	for (; env && *env; env++)
		bx_spec_add_env(s, *env, NULL);
	if (user)
		bx_spec_set_user(s, user, NULL);
	if (cwd)
		bx_spec_set_cwd(s, cwd, NULL);
}

static void test_exec_defaults(void **state)
{
	struct bx_spec box, req;
	const char *benv[] = {"PATH=/box/bin", "A=box", "HOSTNAME=h", NULL};
	const char *renv[] = {"A=exec", "B=new", NULL};
	spec_with(&box, benv, "app", "/srv");
	spec_with(&req, renv, NULL, NULL);
	struct bx_err err;
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_int_equal(req.nenv, 4);
	assert_string_equal(req.env[0], "PATH=/box/bin");
	assert_string_equal(req.env[1], "A=exec");
	assert_string_equal(req.env[2], "HOSTNAME=h");
	assert_string_equal(req.env[3], "B=new");
	assert_null(req.env[4]);
	assert_string_equal(req.user, "app");
	assert_string_equal(req.cwd, "/srv");
	bx_spec_free(&req);
	/* the exec's own user and workdir win */
	spec_with(&req, NULL, "1000:50", "/tmp");
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_string_equal(req.user, "1000:50");
	assert_string_equal(req.cwd, "/tmp");
	assert_int_equal(req.nenv, 3);
	bx_spec_free(&req);
	bx_spec_free(&box);
	/* an exec has its box's capabilities and no_new_privs, unless it names its own */
	spec_with(&box, NULL, NULL, NULL);
	box.caps = (struct bx_spec_caps){.set = true, .bounding = BX_CAPS_DOCKER_DEFAULT};
	box.no_new_privs = true;
	spec_with(&req, NULL, NULL, NULL);
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_true(req.caps.set && req.caps.bounding == BX_CAPS_DOCKER_DEFAULT && req.no_new_privs);
	bx_spec_free(&req);
	spec_with(&req, NULL, NULL, NULL);
	req.caps = (struct bx_spec_caps){.set = true, .bounding = BX_CAPS_ALL};
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_true(req.caps.bounding == BX_CAPS_ALL);
	bx_spec_free(&req);
	/* its box's seccomp filter, --privileged or not (docker exec keeps its container's) */
	const struct bx_spec_bpf allow[] = {{.code = 0x06, .k = 0x7fff0000}}, kill[] = {{.code = 0x06, .k = 0}};
	assert_int_equal(bx_spec_set_seccomp(&box, allow, 1, &err), 0);
	spec_with(&req, NULL, NULL, NULL);
	req.caps = (struct bx_spec_caps){.set = true, .bounding = BX_CAPS_ALL};
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_true(req.nseccomp == 1 && req.seccomp[0].k == 0x7fff0000 && req.seccomp != box.seccomp);
	bx_spec_free(&req);
	/* one that carries its own (boxvm-runtime's) keeps it */
	spec_with(&req, NULL, NULL, NULL);
	assert_int_equal(bx_spec_set_seccomp(&req, kill, 1, &err), 0);
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_true(req.nseccomp == 1 && req.seccomp[0].k == 0);
	bx_spec_free(&req);
	bx_spec_free(&box);
	/* an empty box changes nothing */
	spec_with(&box, NULL, NULL, NULL);
	spec_with(&req, renv, NULL, NULL);
	assert_int_equal(bx_exec_apply_box_defaults(&req, &box, &err), 0);
	assert_int_equal(req.nenv, 2);
	assert_null(req.user);
	assert_null(req.cwd);
	bx_spec_free(&req);
	bx_spec_free(&box);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_scan),
		cmocka_unit_test(test_exec_defaults),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
