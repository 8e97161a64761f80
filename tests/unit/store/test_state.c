/* The box state store: codec, locked updates, names, lookup, reconciliation. */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "store/state.h"

static char root[256];
static struct bx_paths P;

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/bx-state-test.XXXXXX");
	assert_non_null(mkdtemp(root));
	memset(&P, 0, sizeof(P));
	snprintf(P.data, sizeof(P.data), "%s", root);
	snprintf(P.run, sizeof(P.run), "%s/run", root);
	return 0;
}

static int teardown(void **state)
{
	bx_rm_rf(root, NULL);
	return 0;
}

static void make_box(const char *id, const char *name, long long created, struct bx_box_record *r)
{
	struct bx_err err;
	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->image, sizeof(r->image), "busybox");
	assert_int_equal(bx_state_box_dir(&P, id, r->box_dir, sizeof(r->box_dir), &err), 0);
	snprintf(r->run_dir, sizeof(r->run_dir), "%s/run/%.12s", root, id);
	assert_int_equal(bx_mkdir_p(r->box_dir, 0700, &err), 0);
	r->status = BX_BOX_CREATED;
	r->created_ns = created;
	assert_int_equal(bx_name_reserve(&P, name, id, &err), 0);
	assert_int_equal(bx_state_write(r, &err), 0);
}

static const char *ID1 = "aaaa111111111111111111111111111111111111111111111111111111111111";
static const char *ID2 = "aaaa222222222222222222222222222222222222222222222222222222222222";

static void test_codec_roundtrip(void **state)
{
	struct bx_box_record r = {0}, back;
	struct bx_err err;
	snprintf(r.id, sizeof(r.id), "%s", ID1);
	snprintf(r.name, sizeof(r.name), "web");
	snprintf(r.box_dir, sizeof(r.box_dir), "/x/boxes/%s", ID1);
	snprintf(r.command, sizeof(r.command), "sh -c 'echo \"hi\"'");
	r.status = BX_BOX_RESTARTING;
	r.exit_code = 137;
	r.started_ns = 1700000000123456789LL;
	r.shim_start_time = 123456789012ULL;
	r.manually_stopped = true;
	r.restart_count = 3;
	char *text = NULL;
	assert_int_equal(bx_state_encode(&r, &text, &err), 0);
	assert_int_equal(bx_state_decode(text, &back, &err), 0);
	free(text);
	assert_memory_equal(&r, &back, sizeof(r));
	/* "paused" is a status of its own on disk, the rest of the record kept */
	r.status = BX_BOX_PAUSED;
	assert_int_equal(bx_state_encode(&r, &text, &err), 0);
	assert_non_null(strstr(text, "\"Status\": \"paused\""));
	assert_int_equal(bx_state_decode(text, &back, &err), 0);
	free(text);
	assert_memory_equal(&r, &back, sizeof(r));
	assert_string_equal(bx_box_status_name(BX_BOX_PAUSED), "paused");
	assert_true(bx_box_status_live(BX_BOX_PAUSED));
	assert_false(bx_box_status_live(BX_BOX_EXITED));
	assert_false(bx_box_status_live(BX_BOX_CREATED));
	assert_int_equal(bx_state_decode("{\"Id\":\"x\"}", &back, &err), -1);
	assert_int_equal(bx_state_decode("not json", &back, &err), -1);
}

static int bump(struct bx_box_record *r, void *ctx, struct bx_err *err)
{
	r->restart_count++;
	return 0;
}

/* Two processes doing read-modify-write at once lose nothing. */
static void test_concurrent_updates(void **state)
{
	struct bx_box_record r;
	struct bx_err err;
	make_box(ID1, "counter", 1, &r);
	pid_t kids[4];
	for (int k = 0; k < 4; k++) {
		kids[k] = fork();
		if (kids[k] == 0) {
			for (int i = 0; i < 50; i++)
				if (bx_state_update(r.box_dir, bump, NULL, NULL, NULL) < 0)
					_exit(1);
			_exit(0);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;
		waitpid(kids[k], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_int_equal(bx_state_read(r.box_dir, &r, &err), 0);
	assert_int_equal(r.restart_count, 200);
}

static void test_names(void **state)
{
	struct bx_box_record r1, r2;
	struct bx_err err;
	make_box(ID1, "web", 1, &r1);
	assert_int_equal(bx_name_reserve(&P, "web", ID2, &err), -1);
	assert_non_null(strstr(err.msg, "already in use"));
	assert_int_equal(bx_name_reserve(&P, "web", ID1, &err), 0); /* its own: fine */
	assert_int_equal(bx_name_check("-bad", &err), -1);
	assert_int_equal(bx_name_check("a", &err), -1);
	assert_int_equal(bx_name_check("a b", &err), -1);
	assert_int_equal(bx_name_check("ok_name.1-2", &err), 0);
	/* a stale entry (its box is gone) is taken over */
	assert_int_equal(bx_state_remove(&P, &r1, &err), 0);
	assert_int_equal(symlink(ID1, (snprintf(err.msg, sizeof(err.msg), "%s/names/web", root), err.msg)), 0);
	make_box(ID2, "web", 2, &r2);
	char gen[128];
	assert_int_equal(bx_mkdir_p(r1.box_dir, 0700, &err), 0); /* ID1 exists again: its names are not stale */
	assert_int_equal(bx_name_generate(&P, ID1, gen, sizeof(gen), &err), 0);
	assert_non_null(strchr(gen, '_'));
	bx_name_release(&P, gen, ID2); /* not its owner: kept */
	assert_int_equal(bx_name_reserve(&P, gen, ID2, &err), -1);
	bx_name_release(&P, gen, ID1);
	assert_int_equal(bx_name_reserve(&P, gen, ID2, &err), 0);
}

static void test_lookup_and_list(void **state)
{
	struct bx_box_record r, got;
	struct bx_err err;
	make_box(ID2, "second", 20, &r);
	make_box(ID1, "first", 10, &r);
	assert_int_equal(bx_state_lookup(&P, "first", &got, &err), 0);
	assert_string_equal(got.id, ID1);
	assert_int_equal(bx_state_lookup(&P, "/second", &got, &err), 0);
	assert_string_equal(got.id, ID2);
	assert_int_equal(bx_state_lookup(&P, "aaaa2", &got, &err), 0);
	assert_string_equal(got.id, ID2);
	assert_int_equal(bx_state_lookup(&P, ID1, &got, &err), 0);
	assert_int_equal(bx_state_lookup(&P, "aaaa", &got, &err), -1);
	assert_non_null(strstr(err.msg, "ambiguous"));
	assert_int_equal(bx_state_lookup(&P, "nosuch", &got, &err), -1);
	assert_non_null(strstr(err.msg, "no such box"));
	struct bx_box_record *v;
	size_t n;
	assert_int_equal(bx_state_list(&P, &v, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].name, "first"); /* oldest first */
	assert_string_equal(v[1].name, "second");
	free(v);
}

/* A record naming a dead shim (or a live pid with another start time) is
 * reconciled to exited; the live one stays running. */
static void test_reconcile(void **state)
{
	struct bx_box_record r, got;
	struct bx_err err;
	make_box(ID1, "ghost", 1, &r);
	pid_t kid = fork();
	if (kid == 0)
		_exit(0);
	waitpid(kid, NULL, 0);
	r.status = BX_BOX_RUNNING;
	r.shim_pid = kid;
	r.shim_start_time = 1;
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_lookup(&P, "ghost", &got, &err), 0);
	assert_int_equal(got.status, BX_BOX_EXITED);
	assert_int_equal(got.exit_code, 137);
	assert_false(bx_box_is_running(&got));
	assert_int_equal(bx_state_read(r.box_dir, &got, &err), 0); /* persisted */
	assert_int_equal(got.status, BX_BOX_EXITED);
	/* our own pid with a wrong start time: pid reuse, not our shim */
	r.shim_pid = getpid();
	r.shim_start_time = 1;
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_lookup(&P, "ghost", &got, &err), 0);
	assert_int_equal(got.status, BX_BOX_EXITED);
	/* and with the right one: running */
	assert_int_equal(bx_proc_start_time(getpid(), &r.shim_start_time, NULL), 0);
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_lookup(&P, "ghost", &got, &err), 0);
	assert_int_equal(got.status, BX_BOX_RUNNING);
	assert_true(bx_box_is_running(&got));
	/* a paused box is alive too (Docker's Running), and reconciled like a running one */
	r.status = BX_BOX_PAUSED;
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_lookup(&P, "ghost", &got, &err), 0);
	assert_int_equal(got.status, BX_BOX_PAUSED);
	assert_true(bx_box_is_running(&got));
	r.shim_pid = kid;
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_lookup(&P, "ghost", &got, &err), 0);
	assert_int_equal(got.status, BX_BOX_EXITED);
	assert_int_equal(got.exit_code, 137);
	assert_false(bx_box_is_running(&got));
	/* read while it ran, its shim and its directory gone since (a --rm box
	 * removed by its shim between a waiter's read and its check): removed,
	 * not "exited 0" from the stale read (an API wait once answered that) */
	r.status = BX_BOX_RUNNING;
	r.exit_code = 0;
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_read(r.box_dir, &got, &err), 0);
	assert_int_equal(bx_rm_rf(r.box_dir, &err), 0);
	assert_true(bx_state_reconcile(&got));
}

static void test_remove(void **state)
{
	struct bx_box_record r, got;
	struct bx_err err;
	make_box(ID1, "gone", 1, &r);
	assert_int_equal(bx_mkdir_p(r.run_dir, 0700, &err), 0);
	assert_int_equal(bx_state_remove(&P, &r, &err), 0);
	struct stat st;
	assert_int_equal(stat(r.box_dir, &st), -1);
	assert_int_equal(stat(r.run_dir, &st), -1);
	assert_int_equal(bx_state_lookup(&P, "gone", &got, &err), -1);
	assert_int_equal(bx_name_reserve(&P, "gone", ID2, &err), 0);
}

static const char *ID3 = "aaaa333333333333333333333333333333333333333333333333333333333333";

static bool exists(const char *fmt, const char *a, const char *b)
{
	char path[PATH_MAX];
	struct stat st;
	snprintf(path, sizeof(path), fmt, a, b);
	return lstat(path, &st) == 0;
}

/* What killed commands leave, and the sweep after them: it acts only when
 * no store operation is in progress, and then finishes or undoes each. */
static void test_sweep(void **state)
{
	struct bx_box_record r1, r3, got;
	struct bx_err err;
	make_box(ID1, "keep", 1, &r1);
	/* a create that died before its record: a dir and its name */
	char dir[PATH_MAX];
	assert_int_equal(bx_state_box_dir(&P, ID2, dir, sizeof(dir), &err), 0);
	assert_int_equal(bx_mkdir_p(dir, 0700, &err), 0);
	assert_int_equal(bx_name_reserve(&P, "half", ID2, &err), 0);
	/* an rm that died after marking the record */
	make_box(ID3, "doomed", 3, &r3);
	r3.status = BX_BOX_REMOVING;
	assert_int_equal(bx_state_write(&r3, &err), 0);
	/* a rename that died between its steps: a second name on a live record */
	assert_int_equal(bx_name_reserve(&P, "alias", ID1, &err), 0);
	/* temp files of a load */
	assert_int_equal(bx_mkdir_p(root, 0700, &err), 0);
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/blobs/tmp", root);
	assert_int_equal(bx_mkdir_p(tmp, 0700, &err), 0);
	snprintf(tmp, sizeof(tmp), "%s/blobs/tmp/blob-abc", root);
	assert_int_equal(bx_write_file_atomic(tmp, "x", 1, 0600, &err), 0);

	/* an operation in progress (here, our own): nothing is touched */
	int op = bx_store_op_begin(root, &err);
	assert_true(op >= 0);
	bx_store_sweep(&P);
	assert_true(exists("%s/boxes/%s", root, ID2) && exists("%s/boxes/%s", root, ID3));
	assert_true(exists("%s/names/%s", root, "alias") && exists("%s/blobs/tmp/%s", root, "blob-abc"));
	bx_store_op_end(op);

	bx_store_sweep(&P);
	assert_false(exists("%s/boxes/%s", root, ID2));
	assert_false(exists("%s/names/%s", root, "half"));
	assert_false(exists("%s/boxes/%s", root, ID3));
	assert_false(exists("%s/names/%s", root, "doomed"));
	assert_false(exists("%s/names/%s", root, "alias"));
	assert_false(exists("%s/blobs/tmp/%s", root, "blob-abc"));
	/* the whole box is untouched */
	assert_int_equal(bx_state_lookup(&P, "keep", &got, &err), 0);
	assert_true(exists("%s/names/%s", root, "keep"));
}

/* A removal refuses a box whose shim is alive (a start won the race), and
 * a start's lock keeps a removal waiting. */
static void test_remove_refuses_a_live_box(void **state)
{
	struct bx_box_record r;
	struct bx_err err = {0};
	make_box(ID1, "live", 1, &r);
	r.status = BX_BOX_STARTING;
	r.shim_pid = getpid();
	assert_int_equal(bx_proc_start_time(getpid(), &r.shim_start_time, NULL), 0);
	assert_int_equal(bx_state_write(&r, &err), 0);
	assert_int_equal(bx_state_remove(&P, &r, &err), -1);
	assert_int_equal(err.errnum, EBUSY);
	assert_true(exists("%s/boxes/%s", root, ID1));
	/* a starting box is live but not Running */
	assert_true(bx_box_status_live(r.status));
	assert_false(bx_box_is_running(&r));
	assert_string_equal(bx_box_status_docker(r.status), "created");
	assert_string_equal(bx_box_status_name(r.status), "starting");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec_roundtrip),
		cmocka_unit_test_setup_teardown(test_concurrent_updates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lookup_and_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconcile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sweep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_refuses_a_live_box, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
