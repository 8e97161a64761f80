/* The event log: records in Docker's shape, the default line, filters,
 * rotation, and readers that follow appends and rotations. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/paths.h"
#include "store/events.h"

static char root[256];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/bx-events-test.XXXXXX");
	assert_non_null(mkdtemp(root));
	unsetenv("BOXVM_EVENTS_MAX_BYTES");
	return 0;
}

static int teardown(void **state)
{
	bx_rm_rf(root, NULL);
	unsetenv("BOXVM_EVENTS_MAX_BYTES");
	return 0;
}

static bool starts_with(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

static void container_event(struct bx_event *ev, const char *action)
{
	assert_int_equal(bx_event_init(ev, "container", action, "abc123"), 0);
	bx_event_set(ev, "name", "web");
	bx_event_set(ev, "image", "busybox");
	bx_event_set(ev, "a", "b");
	ev->time_ns = 1796037372023073794LL;
	ev->seq = 7;
}

/* Docker 20.10's `{{json .}}`, byte for byte */
static void test_encode_docker_shape(void **state)
{
	struct bx_event ev;
	container_event(&ev, "die");
	bx_event_set(&ev, "exitCode", "3");
	char *s = bx_event_encode(&ev, false);
	assert_string_equal(s, "{\"status\":\"die\",\"id\":\"abc123\",\"from\":\"busybox\",\"Type\":\"container\","
			       "\"Action\":\"die\",\"Actor\":{\"ID\":\"abc123\",\"Attributes\":{\"a\":\"b\",\"exitCode\":\"3\","
			       "\"image\":\"busybox\",\"name\":\"web\"}},\"scope\":\"local\",\"time\":1796037372,"
			       "\"timeNano\":1796037372023073794}");
	free(s);
	s = bx_event_encode(&ev, true);
	assert_true(starts_with(s, "{\"seq\":7,\"status\":\"die\","));
	struct bx_event back;
	assert_int_equal(bx_event_decode(s, strlen(s), &back), 0);
	assert_int_equal(back.seq, 7);
	assert_int_equal(back.time_ns, ev.time_ns);
	assert_string_equal(back.type, "container");
	assert_string_equal(back.action, "die");
	assert_string_equal(back.actor_id, "abc123");
	assert_string_equal(json_string_value(json_object_get(back.attrs, "exitCode")), "3");
	free(s);
	bx_event_free(&back);
	bx_event_free(&ev);

	/* volume events have no status, id or from */
	assert_int_equal(bx_event_init(&ev, "volume", "create", "v1"), 0);
	bx_event_set(&ev, "driver", "local");
	ev.time_ns = 1000000001LL;
	s = bx_event_encode(&ev, false);
	assert_string_equal(s, "{\"Type\":\"volume\",\"Action\":\"create\",\"Actor\":{\"ID\":\"v1\",\"Attributes\":"
			       "{\"driver\":\"local\"}},\"scope\":\"local\",\"time\":1,\"timeNano\":1000000001}");
	free(s);
	bx_event_free(&ev);
	/* an image event: status and id, no from */
	assert_int_equal(bx_event_init(&ev, "image", "tag", "sha256:1"), 0);
	bx_event_set(&ev, "name", "x:1");
	s = bx_event_encode(&ev, false);
	assert_true(starts_with(s, "{\"status\":\"tag\",\"id\":\"sha256:1\",\"Type\":\"image\","));
	free(s);
	bx_event_free(&ev);
}

static void test_decode_rejects(void **state)
{
	struct bx_event ev;
	static const char *const bad[] = {"", "{", "[]", "{\"Action\":\"x\"}", "{\"Type\":\"container\"}",
					  "{\"Type\":1,\"Action\":\"x\"}", "{\"Type\":\"c\",\"Action\":\"x\",\"seq\":\"1\"}",
					  "not json at all"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bx_event_decode(bad[i], strlen(bad[i]), &ev), -1);
	/* attributes that are not strings are dropped, not trusted */
	const char *ok = "{\"Type\":\"container\",\"Action\":\"x\",\"Actor\":{\"ID\":\"i\",\"Attributes\":{\"n\":1,\"s\":\"v\"}}}";
	assert_int_equal(bx_event_decode(ok, strlen(ok), &ev), 0);
	assert_null(json_object_get(ev.attrs, "n"));
	assert_string_equal(json_string_value(json_object_get(ev.attrs, "s")), "v");
	bx_event_free(&ev);
}

static void test_default_line(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	struct bx_event ev;
	container_event(&ev, "start");
	char *s = bx_event_format_line(&ev);
	assert_string_equal(s, "2026-11-30T11:16:12.023073794Z container start abc123 (a=b, image=busybox, name=web)");
	free(s);
	bx_event_free(&ev);
	assert_int_equal(bx_event_init(&ev, "container", "prune", ""), 0);
	ev.time_ns = 5;
	s = bx_event_format_line(&ev);
	assert_string_equal(s, "1970-01-01T00:00:00.000000005Z container prune ");
	free(s);
	bx_event_free(&ev);
	/* another zone: Go's +hh:mm */
	setenv("TZ", "UTC-2", 1);
	tzset();
	container_event(&ev, "start");
	s = bx_event_format_line(&ev);
	assert_true(starts_with(s, "2026-11-30T13:16:12.023073794+02:00 container start"));
	free(s);
	bx_event_free(&ev);
	setenv("TZ", "UTC", 1);
	tzset();
}

static void test_keep_from(void **state)
{
	const char *log = "aaaa\nbbbb\ncccc\n";
	size_t len = strlen(log);
	assert_int_equal(bx_events_keep_from(log, len, 100), 0);
	assert_int_equal(bx_events_keep_from(log, len, len), 0);
	assert_int_equal(bx_events_keep_from(log, len, 10), 5);  /* "bbbb\ncccc\n" fits exactly */
	assert_int_equal(bx_events_keep_from(log, len, 9), 10);  /* only whole lines */
	assert_int_equal(bx_events_keep_from(log, len, 5), 10);
	assert_int_equal(bx_events_keep_from(log, len, 4), len); /* not even the last one */
}

static bool matches(const char *const *filters, const struct bx_event *ev)
{
	struct bx_event_filter f = {0};
	struct bx_err err;
	for (size_t i = 0; filters[i]; i++)
		assert_int_equal(bx_event_filter_add(&f, filters[i], &err), 0);
	bool m = bx_event_filter_match(&f, ev);
	bx_event_filter_free(&f);
	return m;
}
#define M(ev, ...) matches((const char *const[]){__VA_ARGS__, NULL}, ev)

static void test_filters(void **state)
{
	struct bx_event ev, vol, img, ex;
	container_event(&ev, "start");
	assert_int_equal(bx_event_init(&vol, "volume", "create", "data1"), 0);
	bx_event_set(&vol, "driver", "local");
	assert_int_equal(bx_event_init(&img, "image", "tag", "sha256:1234"), 0);
	bx_event_set(&img, "name", "busybox:latest");
	assert_int_equal(bx_event_init(&ex, "container", "exec_create: sh -c true", "abc123"), 0);
	bx_event_set(&ex, "name", "web");

	assert_true(matches((const char *const[]){NULL}, &ev));
	assert_true(M(&ev, "type=container"));
	assert_false(M(&vol, "type=container"));
	assert_true(M(&vol, "type=container", "type=volume")); /* same key: OR */
	assert_false(M(&ev, "type=container", "event=stop")); /* keys: AND */
	assert_true(M(&ev, "event=stop", "event=start"));
	/* container= : the name or the ID, or a prefix of either */
	assert_true(M(&ev, "container=web"));
	assert_true(M(&ev, "container=we"));
	assert_true(M(&ev, "container=abc"));
	assert_false(M(&ev, "container=eb"));
	assert_false(M(&vol, "container=web")); /* only what it names */
	assert_true(M(&vol, "volume=data"));
	assert_false(M(&ev, "volume=data1"));
	assert_false(M(&ev, "network=n1"));
	/* event= is exact, but a prefix for the actions that carry a command */
	assert_false(M(&ev, "event=sta"));
	assert_true(M(&ex, "event=exec_create"));
	assert_false(M(&ex, "event=exec_start"));
	/* image= : the box's image or the image's name, with or without its tag, or the ID */
	assert_true(M(&ev, "image=busybox"));
	assert_false(M(&ev, "image=busybox:1"));
	assert_true(M(&img, "image=busybox"));
	assert_true(M(&img, "image=busybox:latest"));
	assert_true(M(&img, "image=sha256:1234"));
	assert_false(M(&img, "image=sha256:12"));
	assert_false(M(&vol, "image=busybox"));
	/* label= : every one must hold */
	assert_true(M(&ev, "label=a"));
	assert_true(M(&ev, "label=a=b"));
	assert_false(M(&ev, "label=a=c"));
	assert_false(M(&ev, "label=a", "label=zz"));
	assert_false(M(&vol, "label=a"));
	/* keys Docker's events do not use: accepted, ignored (Docker 20.10) */
	assert_true(M(&ev, "foo=bar"));
	assert_true(M(&ev, "TYPE=container")); /* the key is case-insensitive */
	assert_true(M(&ev, "scope=local"));
	assert_false(M(&ev, "scope=swarm"));

	struct bx_event_filter f = {0};
	struct bx_err err;
	assert_int_equal(bx_event_filter_add(&f, "type", &err), -1);
	assert_non_null(strstr(err.msg, "bad format of filter (expected name=value)"));
	bx_event_filter_free(&f);
	bx_event_free(&ev);
	bx_event_free(&vol);
	bx_event_free(&img);
	bx_event_free(&ex);
}

static void emit_n(int from, int n)
{
	struct bx_err err;
	for (int i = from; i < from + n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "v%06d", i);
		assert_int_equal(bx_event_emit(root, "volume", "create", id, (const char *const[]){"driver", "local", NULL}, &err), 0);
	}
}

struct seen {
	int n;
	unsigned long long last_seq;
	char ids[4096][256];
};

static int collect(void *ctx, const struct bx_event *ev)
{
	struct seen *s = ctx;
	assert_true(ev->seq > s->last_seq);
	s->last_seq = ev->seq;
	if (s->n < 4096)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", ev->actor_id);
	s->n++;
	return 0;
}

static void test_append_and_read(void **state)
{
	struct bx_events_reader r;
	struct bx_err err;
	static struct seen s;
	memset(&s, 0, sizeof(s));
	bx_events_reader_init(&r, root);
	assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0); /* no log yet */
	assert_int_equal(s.n, 0);
	emit_n(0, 3);
	assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.last_seq, 3);
	assert_string_equal(s.ids[2], "v000002");
	assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0); /* nothing new */
	assert_int_equal(s.n, 3);
	/* a writer that died mid-line: its fragment is skipped, nothing after it is lost */
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/events.log", root);
	int fd = open(path, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"seq\":4,\"Ty", 12), 12);
	close(fd);
	assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0); /* an unfinished line waits */
	assert_int_equal(s.n, 3);
	emit_n(3, 1);
	assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0);
	assert_int_equal(s.n, 4);
	assert_string_equal(s.ids[3], "v000003");
	assert_int_equal(s.last_seq, 4);
	bx_events_reader_close(&r);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

/* The log stays under its cap, keeps the newest events, and a reader that
 * keeps up sees every event once, in order, across rotations. */
static void test_rotation(void **state)
{
	setenv("BOXVM_EVENTS_MAX_BYTES", "4096", 1);
	struct bx_events_reader r;
	struct bx_err err;
	static struct seen s;
	memset(&s, 0, sizeof(s));
	bx_events_reader_init(&r, root);
	int total = 0;
	for (int round = 0; round < 40; round++) {
		emit_n(total, 5); /* ~700 bytes: less than the half kept */
		total += 5;
		assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0);
	}
	assert_int_equal(s.n, total);
	for (int i = 0; i < total; i++) {
		char id[16];
		snprintf(id, sizeof(id), "v%06d", i);
		assert_string_equal(s.ids[i], id);
	}
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/events.log", root);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 4096);
	/* a fresh reader finds the newest ones, seq still counting up */
	static struct seen s2;
	memset(&s2, 0, sizeof(s2));
	struct bx_events_reader r2;
	bx_events_reader_init(&r2, root);
	assert_int_equal(bx_events_reader_poll(&r2, collect, &s2, &err), 0);
	assert_true(s2.n > 5 && s2.n < total);
	assert_int_equal(s2.last_seq, (unsigned long long)total);
	char last[16];
	snprintf(last, sizeof(last), "v%06d", total - 1);
	assert_string_equal(s2.ids[s2.n - 1], last);
	bx_events_reader_close(&r2);
	bx_events_reader_close(&r);
}

/* Writers in several processes at once: every event lands, whole. */
static void test_concurrent_writers(void **state)
{
	setenv("BOXVM_EVENTS_MAX_BYTES", "1048576", 1);
	enum { PROCS = 6, EACH = 40 };
	for (int p = 0; p < PROCS; p++) {
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			emit_n(p * 1000, EACH);
			_exit(0);
		}
	}
	for (int p = 0; p < PROCS; p++) {
		int status;
		assert_true(wait(&status) > 0);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	struct bx_events_reader r;
	struct bx_err err;
	static struct seen s;
	memset(&s, 0, sizeof(s));
	bx_events_reader_init(&r, root);
	assert_int_equal(bx_events_reader_poll(&r, collect, &s, &err), 0);
	assert_int_equal(s.n, PROCS * EACH);
	assert_int_equal(s.last_seq, PROCS * EACH);
	bx_events_reader_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_docker_shape),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_default_line),
		cmocka_unit_test(test_keep_from),
		cmocka_unit_test(test_filters),
		cmocka_unit_test_setup_teardown(test_append_and_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
