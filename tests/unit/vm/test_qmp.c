/* QMP: line classification and the client's exchange against a scripted monitor. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "vm/qmp.h"

static void classify_lines(void **state)
{
	char d[64];
	assert_int_equal(bx_qmp_classify("{\"QMP\": {\"version\": {\"qemu\": {\"major\": 7}}, \"capabilities\": []}}", d,
					 sizeof(d)),
			 BX_QMP_GREETING);
	assert_int_equal(bx_qmp_classify("{\"return\": {}}", d, sizeof(d)), BX_QMP_RETURN);
	assert_int_equal(bx_qmp_classify("{\"return\": {}, \"id\": 1}", d, sizeof(d)), BX_QMP_RETURN);
	/* the STOP/RESUME events QEMU emits around the answer to stop/cont */
	assert_int_equal(bx_qmp_classify("{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, \"event\": \"STOP\"}", d,
					 sizeof(d)),
			 BX_QMP_EVENT);
	assert_int_equal(bx_qmp_classify("{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The command "
					 "frob has not been found\"}}",
					 d, sizeof(d)),
			 BX_QMP_ERROR);
	assert_string_equal(d, "The command frob has not been found");
	assert_int_equal(bx_qmp_classify("{\"error\": {\"class\": \"GenericError\"}}", d, sizeof(d)), BX_QMP_ERROR);
	assert_string_equal(d, "GenericError");
	assert_int_equal(bx_qmp_classify("{\"error\": \"not an object\"}", d, sizeof(d)), BX_QMP_BAD);
	assert_int_equal(bx_qmp_classify("not json", d, sizeof(d)), BX_QMP_BAD);
	assert_int_equal(bx_qmp_classify("", d, sizeof(d)), BX_QMP_BAD);
	assert_int_equal(bx_qmp_classify("[1, 2]", d, sizeof(d)), BX_QMP_BAD);
	assert_int_equal(bx_qmp_classify("{\"something\": 1}", d, sizeof(d)), BX_QMP_BAD);
	assert_int_equal(bx_qmp_classify("{\"return\": {}}", NULL, 0), BX_QMP_RETURN);
}

/* A one-connection monitor: the greeting, then for each line received the
 * next scripted answer (which may hold several lines, events first). What
 * the client sent is written to log_fd. */
static pid_t fake_monitor(const char *path, const char *greeting, const char *const *answers, int log_fd)
{
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	unlink(path);
	assert_int_equal(bind(l, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(l, 1), 0);
	pid_t kid = fork();
	assert_true(kid >= 0);
	if (kid > 0) {
		close(l);
		return kid;
	}
	int c = accept(l, NULL, NULL);
	if (c < 0 || write(c, greeting, strlen(greeting)) < 0)
		_exit(1);
	char buf[512];
	size_t have = 0;
	for (const char *const *a = answers; *a; a++) {
		char *nl;
		while (!(nl = memchr(buf, '\n', have))) {
			ssize_t n = read(c, buf + have, sizeof(buf) - have);
			if (n <= 0)
				_exit(0); /* the client hung up early */
			have += (size_t)n;
		}
		size_t len = (size_t)(nl - buf) + 1;
		if (!strcmp(*a, "HANG")) /* a wedged QEMU: takes the command, never answers */
			for (;;)
				pause();
		if (write(log_fd, buf, len) < 0 || write(c, *a, strlen(*a)) < 0)
			_exit(1);
		memmove(buf, buf + len, have - len);
		have -= len;
	}
	_exit(0);
}

static void run_exchange(const char *greeting, const char *const *answers, int want_rc, const char *want_msg,
			 const char *want_sent)
{
	char dir[] = "/tmp/bx-qmp-test.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	FILE *log = tmpfile();
	pid_t kid = fake_monitor(path, greeting, answers, fileno(log));
	struct bx_err err = {0};
	assert_int_equal(bx_qmp_execute(path, "stop", 5000, &err), want_rc);
	if (want_msg)
		assert_non_null(strstr(err.msg, want_msg));
	int st;
	waitpid(kid, &st, 0);
	char sent[512] = "";
	rewind(log);
	size_t n = fread(sent, 1, sizeof(sent) - 1, log);
	sent[n] = '\0';
	fclose(log);
	assert_string_equal(sent, want_sent);
	unlink(path);
	rmdir(dir);
}

static const char GREETING[] = "{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n";

static void execute_skips_events(void **state)
{
	const char *const answers[] = {
		"{\"return\": {}}\r\n",
		"{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, \"event\": \"STOP\"}\r\n{\"return\": {}}\r\n",
		NULL,
	};
	run_exchange(GREETING, answers, 0, NULL, "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"stop\"}\n");
}

static void execute_reports_errors(void **state)
{
	const char *const refused[] = {
		"{\"return\": {}}\r\n",
		"{\"error\": {\"class\": \"GenericError\", \"desc\": \"Migration is in progress\"}}\r\n",
		NULL,
	};
	run_exchange(GREETING, refused, -1, "QEMU refused \"stop\": Migration is in progress",
		     "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"stop\"}\n");
	/* no greeting: nothing is sent */
	const char *const none[] = {NULL};
	run_exchange("{\"hello\": 1}\r\n", none, -1, "did not greet", "");
	/* the monitor takes the command and hangs up without answering it */
	const char *const hangup[] = {"{\"return\": {}}\r\n", "", NULL};
	run_exchange(GREETING, hangup, -1, "closed the connection",
		     "{\"execute\":\"qmp_capabilities\"}\n{\"execute\":\"stop\"}\n");
}

/* The deadline is what keeps a wedged QEMU from stalling the shim. */
static void execute_gives_up_on_a_silent_monitor(void **state)
{
	char dir[] = "/tmp/bx-qmp-test.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	FILE *log = tmpfile();
	const char *const answers[] = {"{\"return\": {}}\r\n", "HANG", NULL};
	pid_t kid = fake_monitor(path, GREETING, answers, fileno(log));
	struct bx_err err = {0};
	assert_int_equal(bx_qmp_execute(path, "stop", 300, &err), -1);
	assert_int_equal(err.errnum, ETIMEDOUT);
	assert_non_null(strstr(err.msg, "did not answer"));
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	fclose(log);
	unlink(path);
	rmdir(dir);
}

/* update's balloon: arguments sent as given, the answer's "return" handed
 * back; a line longer than the client's buffer (a QEMU the guest took over)
 * is refused, never grown into. */
static void call_with_arguments_and_answer(void **state)
{
	char dir[] = "/tmp/bx-qmp-test.XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/qmp.sock", dir);
	FILE *log = tmpfile();
	const char *const answers[] = {"{\"return\": {}}\r\n", "{\"return\": {\"base-memory\": 268435456}}\r\n", NULL};
	pid_t kid = fake_monitor(path, GREETING, answers, fileno(log));
	struct bx_err err = {0};
	json_t *ret = NULL;
	assert_int_equal(bx_qmp_call(path, "balloon", "{\"value\":167772160}", &ret, 5000, &err), 0);
	assert_int_equal(json_integer_value(json_object_get(ret, "base-memory")), 268435456);
	json_decref(ret);
	waitpid(kid, NULL, 0);
	char sent[512] = "";
	rewind(log);
	sent[fread(sent, 1, sizeof(sent) - 1, log)] = '\0';
	assert_string_equal(sent, "{\"execute\":\"qmp_capabilities\"}\n"
				  "{\"execute\":\"balloon\",\"arguments\":{\"value\":167772160}}\n");
	fclose(log);

	static char flood[20000];
	memset(flood, 'x', sizeof(flood) - 1);
	const char *const huge[] = {"{\"return\": {}}\r\n", flood, NULL};
	log = tmpfile();
	kid = fake_monitor(path, GREETING, huge, fileno(log));
	ret = NULL;
	assert_int_equal(bx_qmp_call(path, "query-memory-size-summary", NULL, &ret, 5000, &err), -1);
	assert_null(ret);
	assert_non_null(strstr(err.msg, "a line over"));
	kill(kid, SIGKILL);
	waitpid(kid, NULL, 0);
	fclose(log);
	unlink(path);
	rmdir(dir);
}

static void execute_without_monitor(void **state)
{
	struct bx_err err = {0};
	assert_int_equal(bx_qmp_execute("/nonexistent/qmp.sock", "cont", 1000, &err), -1);
	assert_non_null(strstr(err.msg, "cannot reach QEMU's monitor"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(classify_lines),
		cmocka_unit_test(execute_skips_events),
		cmocka_unit_test(execute_reports_errors),
		cmocka_unit_test(execute_without_monitor),
		cmocka_unit_test(call_with_arguments_and_answer),
		cmocka_unit_test(execute_gives_up_on_a_silent_monitor),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
