/* bx_tar_extract_fd: a hostile guest's tar (cp BOX:SRC DEST) leaves nothing
 * unsafe on the host and writes nothing outside DEST. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <pthread.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../tar_ents.h"
#include "common/paths.h"
#include "common/tar_extract.h"

static char base[64], dest[128], outside[128];

static int setup(void **state)
{
	snprintf(base, sizeof(base), "/tmp/bx-tarx-XXXXXX");
	assert_non_null(mkdtemp(base));
	snprintf(dest, sizeof(dest), "%s/dest", base);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	assert_int_equal(mkdir(dest, 0755), 0);
	assert_int_equal(mkdir(outside, 0755), 0);
	return 0;
}

static int teardown(void **state)
{
	assert_int_equal(bx_rm_rf(base, NULL), 0);
	return 0;
}

/* extract a tar made of entries into dest; returns the extractor's result */
static int extract(const struct ent *e, size_t n, struct bx_err *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/in.tar", base);
	write_tar(path, e, n, false);
	int fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	char cwd[PATH_MAX], after[PATH_MAX];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	int rc = bx_tar_extract_fd(fd, dest, "cp", err);
	close(fd);
	assert_non_null(getcwd(after, sizeof(after)));
	assert_string_equal(cwd, after); /* the working directory is given back */
	return rc;
}

static bool exists(const char *dir, const char *rel, struct stat *st)
{
	char p[PATH_MAX];
	struct stat ignored;
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	return lstat(p, st ? st : &ignored) == 0;
}

static void test_plain_tree(void **state)
{
	struct bx_err err = {0};
	const struct ent t[] = {
		{"x/", 'd', NULL, 0750}, {"x/f", 'f', "hello", 0640}, {"x/same", 'h', "x/f", 0},
		{"x/rel", 'l', "f", 0777}, {"x/etc", 'l', "/etc", 0777}, /* a link is copied as a link */
	};
	assert_int_equal(extract(t, 5, &err), 0);
	struct stat a, b;
	assert_true(exists(dest, "x/f", &a));
	assert_int_equal(a.st_mode & 07777, 0640);
	assert_int_equal(a.st_uid, geteuid()); /* the caller's, not the archive's */
	assert_true(exists(dest, "x/same", &b));
	assert_int_equal(a.st_ino, b.st_ino);
	assert_true(exists(dest, "x/etc", &a));
	assert_true(S_ISLNK(a.st_mode));
	assert_true(exists(dest, "x", &a));
	assert_int_equal(a.st_mode & 07777, 0750);
}

static void test_dangerous_bits_dropped(void **state)
{
	struct bx_err err = {0};
	const struct ent t[] = {
		{"x/", 'd', NULL, 02755}, {"x/suid", 'f', "#!/bin/sh\n", 04755}, {"x/sgid", 'f', "", 02755},
		{"x/null", 'c', NULL, 0666},  {"x/fifo", 'p', NULL, 0666},  {"x/after", 'f', "still copied", 0},
	};
	assert_int_equal(extract(t, 6, &err), 0);
	struct stat st;
	assert_true(exists(dest, "x/suid", &st));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_true(exists(dest, "x/sgid", &st));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_true(exists(dest, "x", &st));
	assert_int_equal(st.st_mode & 07777, 0755);
	assert_false(exists(dest, "x/null", NULL));
	assert_false(exists(dest, "x/fifo", NULL));
	assert_true(exists(dest, "x/after", NULL));
}

static void expect_refused(const struct ent *t, size_t n)
{
	struct bx_err err = {0};
	assert_int_equal(extract(t, n, &err), -1);
	if (!strstr(err.msg, "unsafe"))
		fail_msg("message '%s' does not say the archive is unsafe", err.msg);
	assert_false(exists(base, "escape", NULL));
	assert_false(exists(outside, "evil", NULL));
	assert_false(exists(outside, "pw", NULL));
}

static void test_refuses_dotdot(void **state)
{
	const struct ent t[] = {{"x/", 'd', NULL, 0}, {"../escape", 'f', "bad", 0}};
	expect_refused(t, 2);
	const struct ent u[] = {{"x/../../escape", 'f', "bad", 0}};
	expect_refused(u, 1);
}

static void test_refuses_absolute(void **state)
{
	char abs[PATH_MAX];
	snprintf(abs, sizeof(abs), "%s/evil", outside);
	const struct ent t[] = {{abs, 'f', "bad", 0}};
	expect_refused(t, 1);
}

static void test_refuses_path_through_symlink(void **state)
{
	const struct ent t[] = {{"x/", 'd', NULL, 0}, {"x/out", 'l', outside, 0}, {"x/out/evil", 'f', "bad", 0}};
	expect_refused(t, 3);
	teardown(state);
	setup(state);
	/* a symlink already in DEST is not followed either */
	char link[PATH_MAX];
	snprintf(link, sizeof(link), "%s/pre", dest);
	assert_int_equal(symlink(outside, link), 0);
	const struct ent u[] = {{"pre/evil", 'f', "bad", 0}};
	expect_refused(u, 1);
}

/* names from the guest reach the terminal without control characters, libarchive's reason included */
static void test_message_has_no_control_characters(void **state)
{
	const struct ent t[] = {{"e\033]0;x\a", 'l', outside, 0}, {"e\033]0;x\a/evil", 'f', "bad", 0}};
	struct bx_err err = {0};
	assert_int_equal(extract(t, 2, &err), -1);
	for (const char *c = err.msg; *c; c++)
		assert_true((unsigned char)*c >= 0x20 && *c != 0x7f);
	assert_false(exists(outside, "evil", NULL));
}

static void test_refuses_hardlink_out(void **state)
{
	char target[PATH_MAX];
	snprintf(target, sizeof(target), "%s/secret", outside);
	FILE *f = fopen(target, "w");
	fputs("secret", f);
	fclose(f);
	const struct ent t[] = {{"pw", 'h', target, 0}};
	expect_refused(t, 1);
	const struct ent u[] = {{"pw", 'h', "../outside/secret", 0}};
	expect_refused(u, 1);
	const struct ent v[] = {{"l", 'l', outside, 0}, {"pw", 'h', "l/secret", 0}};
	expect_refused(v, 2);
	assert_false(exists(dest, "pw", NULL));
	struct stat st;
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_nlink, 1);
}

static void test_refuses_overlong_name(void **state)
{
	char name[300];
	memset(name, 'a', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	const struct ent t[] = {{name, 'f', "x", 0}};
	expect_refused(t, 1);
}

/* a guest that failed before its tar wrote anything (no such SRC) sends nothing:
 * that is no archive to refuse, so the guest's own failure is what cp reports */
/* bx_archive_extract_fd_max: a gzip'd tar within its bound unpacks, one
 * whose entries claim more is refused, counting 512 bytes an entry */
static void test_bound(void **state)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/in.tgz", base);
	const struct ent t[] = {{"d/", 'd', NULL, 0}, {"d/a", 'f', "0123456789", 0}, {"d/b", 'f', "0123456789", 0}};
	write_tar(path, t, 3, true);
	struct bx_err err = {0};
	int fd = open(path, O_RDONLY);
	assert_int_equal(bx_archive_extract_fd_max(fd, dest, "ctx", 3 * 512 + 20, &err), 0);
	close(fd);
	assert_true(exists(dest, "d/b", NULL));
	fd = open(path, O_RDONLY);
	assert_int_equal(bx_archive_extract_fd_max(fd, outside, "ctx", 3 * 512 + 19, &err), -1);
	close(fd);
	assert_int_equal(err.errnum, EFBIG);
	assert_non_null(strstr(err.msg, "ctx: the archive unpacks to more than 0 MiB (at 'd/b')"));
}

static void test_empty_stream_is_nothing(void **state)
{
	struct bx_err err = {0};
	int fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	int rc = bx_tar_extract_fd(fd, dest, "cp", &err);
	close(fd);
	if (rc != 0)
		fail_msg("an empty stream was refused: %s", err.msg);
	DIR *d = opendir(dest);
	assert_non_null(d);
	int n = 0;
	for (struct dirent *de; (de = readdir(d));)
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	closedir(d);
	assert_int_equal(n, 0);
}

/* Two threads extracting at once (the API service's two builds side by side):
 * every file lands in its own thread's destination. Before, the extraction
 * changed the working directory that all threads share, and files of one
 * landed in the other's (a build then found no Dockerfile in its context). */
#define SIDE_FILES 64
#define SIDE_ROUNDS 20
struct side {
	char tar[PATH_MAX], dest[PATH_MAX];
	int rc;
};

static void *side_extract(void *arg)
{
	struct side *sd = arg;
	for (int round = 0; round < SIDE_ROUNDS && sd->rc == 0; round++) {
		int fd = open(sd->tar, O_RDONLY | O_CLOEXEC);
		struct bx_err err;
		sd->rc = fd < 0 ? -1 : bx_archive_extract_fd(fd, sd->dest, "side", &err);
		if (fd >= 0)
			close(fd);
	}
	return NULL;
}

static void test_threads_extract_side_by_side(void **state)
{
	static char names[2][SIDE_FILES][32];
	struct ent t[2][SIDE_FILES];
	struct side sd[2];
	for (int s = 0; s < 2; s++) {
		for (int i = 0; i < SIDE_FILES; i++) {
			snprintf(names[s][i], sizeof(names[s][i]), "side%d-%d", s, i);
			t[s][i] = (struct ent){names[s][i], 'f', s ? "two" : "one", 0};
		}
		snprintf(sd[s].tar, sizeof(sd[s].tar), "%s/side%d.tar", base, s);
		snprintf(sd[s].dest, sizeof(sd[s].dest), "%s/side%d", base, s);
		assert_int_equal(mkdir(sd[s].dest, 0755), 0);
		write_tar(sd[s].tar, t[s], SIDE_FILES, false);
		sd[s].rc = 0;
	}
	pthread_t th[2];
	for (int s = 0; s < 2; s++)
		assert_int_equal(pthread_create(&th[s], NULL, side_extract, &sd[s]), 0);
	for (int s = 0; s < 2; s++) {
		assert_int_equal(pthread_join(th[s], NULL), 0);
		assert_int_equal(sd[s].rc, 0);
	}
	for (int s = 0; s < 2; s++) {
		DIR *d = opendir(sd[s].dest);
		assert_non_null(d);
		int own = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue;
			char want[16];
			snprintf(want, sizeof(want), "side%d-", s);
			assert_true(strncmp(e->d_name, want, strlen(want)) == 0); /* none of the other thread's */
			own++;
		}
		closedir(d);
		assert_int_equal(own, SIDE_FILES);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plain_tree, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dangerous_bits_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_dotdot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_absolute, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_path_through_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_hardlink_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_has_no_control_characters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_overlong_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_empty_stream_is_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bound, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads_extract_side_by_side, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
