/* boxvm stats: the STATS_REPLY payload (src/proto/stats.c), the QEMU
 * accounting parser (src/store/vmproc.c) and Docker's units and columns
 * (src/cli/stats_view.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/stats_view.h"
#include "proto/msg.h"
#include "proto/stats.h"
#include "store/vmproc.h"

static void test_payload_roundtrip(void **state)
{
	struct bx_guest_stats in = {.mem_total = 512ull << 20, .mem_available = 0x0102030405060708ull, .pids = 7,
				    .net_rx = 1, .net_tx = UINT64_MAX, .blk_read = 0, .blk_write = 4096,
				    .cpu_ns = 123456789012ull};
	uint8_t buf[BX_STATS_SIZE + 8];
	assert_int_equal(bx_stats_encode(&in, buf), BX_STATS_SIZE);
	/* little endian on the wire, field order fixed */
	assert_int_equal(buf[8], 0x08);
	assert_int_equal(buf[15], 0x01);
	struct bx_guest_stats out;
	struct bx_err err;
	assert_int_equal(bx_stats_decode(buf, BX_STATS_SIZE, &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
	/* a newer agent's extra field is ignored */
	memset(buf + BX_STATS_SIZE, 0xee, 8);
	assert_int_equal(bx_stats_decode(buf, BX_STATS_SIZE + 8, &out, &err), 0);
	assert_memory_equal(&in, &out, sizeof(in));
}

static void test_payload_malformed(void **state)
{
	uint8_t buf[BX_STATS_SIZE + 3] = {0};
	struct bx_guest_stats out;
	struct bx_err err;
	assert_int_equal(bx_stats_decode(buf, BX_STATS_SIZE - 8, &out, &err), -1);
	assert_non_null(strstr(err.msg, "malformed stats reply"));
	assert_int_equal(bx_stats_decode(buf, BX_STATS_SIZE + 3, &out, &err), -1);
	assert_int_equal(bx_stats_decode(buf, 0, &out, &err), -1);
	/* the guest sets the length: a reply past the bound is refused */
	static uint8_t big[BX_STATS_MAX_SIZE + 8];
	assert_int_equal(bx_stats_decode(big, BX_STATS_MAX_SIZE, &out, &err), 0);
	assert_int_equal(bx_stats_decode(big, BX_STATS_MAX_SIZE + 8, &out, &err), -1);
	assert_non_null(strstr(err.msg, "malformed stats reply"));
}

static void test_msg_kinds(void **state)
{
	/* the agent rejects kinds above the maximum: STATS must be within it */
	assert_true(BX_M_STATS <= BX_M_KIND_MAX && BX_M_STATS_REPLY <= BX_M_KIND_MAX);
	assert_int_not_equal(BX_M_STATS, BX_M_STATS_REPLY);
	uint8_t wire[BX_MSG_HDR_SIZE];
	struct bx_err err;
	assert_int_equal(bx_msg_encode(wire, sizeof(wire), BX_M_STATS, NULL, 0, &err), BX_MSG_HDR_SIZE);
	struct bx_msgbuf b;
	struct bx_msg m;
	bx_msgbuf_init(&b);
	assert_int_equal(bx_msgbuf_append(&b, wire, sizeof(wire), &err), 0);
	assert_int_equal(bx_msgbuf_next(&b, &m, &err), 1);
	assert_int_equal(m.kind, BX_M_STATS);
	bx_msgbuf_free(&b);
}

static void test_proc_stat_times(void **state)
{
	unsigned long long ut = 0, st = 0, start = 0;
	const char *t = "4242 (qemu-system-x86) S 4200 4242 4200 0 -1 4194624 9000 0 0 0 1234 567 0 0 20 0 5 0 "
			"987654 2000000000 30000 18446744073709551615\n";
	assert_int_equal(bx_proc_stat_times(t, &ut, &st, &start), 0);
	assert_int_equal(ut, 1234);
	assert_int_equal(st, 567);
	assert_int_equal(start, 987654);
	const char *odd = "9 (a) b) c) R 1 9 9 0 -1 0 0 0 0 0 11 22 0 0 20 0 1 0 33 0\n";
	assert_int_equal(bx_proc_stat_times(odd, &ut, &st, &start), 0);
	assert_int_equal(ut, 11);
	assert_int_equal(st, 22);
	assert_int_equal(start, 33);
	assert_int_equal(bx_proc_stat_times("9 (a) R 1 9 9 0 -1 0 0 0 0 0 11 22\n", &ut, &st, &start), -1);
	assert_int_equal(bx_proc_stat_times("no paren", &ut, &st, &start), -1);
}

static void test_qemu_cpu_ns_checks_identity(void **state)
{
	char dir[] = "/tmp/bx-test-vmproc.XXXXXX";
	assert_non_null(mkdtemp(dir));
	uint64_t ns;
	struct bx_err err;
	/* no file: no VM */
	assert_int_equal(bx_qemu_cpu_ns(dir, &ns), -1);
	/* this test process stands in for QEMU */
	assert_int_equal(bx_qemu_pid_write(dir, (int)getpid(), &err), 0);
	assert_int_equal(bx_qemu_cpu_ns(dir, &ns), 0);
	/* the same pid with another start time is another process (pid reuse) */
	char path[600];
	snprintf(path, sizeof(path), "%s/qemu.pid", dir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "%d 1\n", (int)getpid());
	fclose(f);
	assert_int_equal(bx_qemu_cpu_ns(dir, &ns), -1);
	unlink(path);
	rmdir(dir);
}

static void test_sizes_like_docker(void **state)
{
	char b[32];
	cli_size_binary(0, b, sizeof(b));
	assert_string_equal(b, "0B");
	cli_size_binary(1023, b, sizeof(b));
	assert_string_equal(b, "1023B");
	cli_size_binary(12.3 * 1048576, b, sizeof(b));
	assert_string_equal(b, "12.3MiB");
	cli_size_binary(257000000, b, sizeof(b));
	assert_string_equal(b, "245.1MiB");
	cli_size_binary(2147483648.0, b, sizeof(b));
	assert_string_equal(b, "2GiB");
	cli_size_decimal(648, b, sizeof(b));
	assert_string_equal(b, "648B");
	cli_size_decimal(1234, b, sizeof(b));
	assert_string_equal(b, "1.23kB");
	cli_size_decimal(1200, b, sizeof(b));
	assert_string_equal(b, "1.2kB");
	cli_size_decimal(12345678, b, sizeof(b));
	assert_string_equal(b, "12.3MB");
	/* system df and "Total reclaimed space": go-units HumanSize, 4 digits */
	cli_size_human(0, b, sizeof(b));
	assert_string_equal(b, "0B");
	cli_size_human(1982000, b, sizeof(b));
	assert_string_equal(b, "1.982MB");
	cli_size_human(3145728, b, sizeof(b));
	assert_string_equal(b, "3.146MB");
	cli_size_human(1536000, b, sizeof(b));
	assert_string_equal(b, "1.536MB");
	cli_size_human(4682000000.0, b, sizeof(b));
	assert_string_equal(b, "4.682GB");
}

static const char *get(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static void test_row_running(void **state)
{
	struct cli_stats_sample s = {.running = true, .cpu_known = true, .cpu_pct = 42.346, .guest_known = true,
				     .g = {.mem_total = 400ull << 20, .mem_available = 300ull << 20, .pids = 3,
					   .net_rx = 1200, .net_tx = 648}};
	json_t *o = cli_stats_json("web", "0123456789ab", "web", &s);
	assert_non_null(o);
	assert_string_equal(get(o, "CPUPerc"), "42.35%");
	assert_string_equal(get(o, "MemUsage"), "100MiB / 400MiB");
	assert_string_equal(get(o, "MemPerc"), "25.00%");
	assert_string_equal(get(o, "NetIO"), "1.2kB / 648B");
	assert_string_equal(get(o, "BlockIO"), "0B / 0B");
	assert_string_equal(get(o, "PIDs"), "3");
	assert_string_equal(get(o, "Container"), "web");
	assert_string_equal(get(o, "ID"), "0123456789ab");
	assert_string_equal(get(o, "Name"), "web");
	/* Docker's key order */
	char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(strstr(t, "{\"BlockIO\":"));
	assert_true(strstr(t, "\"CPUPerc\"") < strstr(t, "\"Container\"") &&
		    strstr(t, "\"NetIO\"") < strstr(t, "\"PIDs\""));
	free(t);
	json_decref(o);
}

static void test_row_stopped_and_unknown(void **state)
{
	/* not running: zeros, whatever was sampled before */
	struct cli_stats_sample s = {.running = false, .cpu_known = true, .cpu_pct = 50, .guest_known = true,
				     .g = {.mem_total = 1 << 20, .pids = 9}};
	json_t *o = cli_stats_json("x", "x", "x", &s);
	assert_string_equal(get(o, "CPUPerc"), "0.00%");
	assert_string_equal(get(o, "MemUsage"), "0B / 0B");
	assert_string_equal(get(o, "MemPerc"), "0.00%");
	assert_string_equal(get(o, "NetIO"), "0B / 0B");
	assert_string_equal(get(o, "PIDs"), "0");
	json_decref(o);
	/* running, but nothing measured yet (paused guest, booting, no interval) */
	struct cli_stats_sample u = {.running = true};
	o = cli_stats_json("x", "x", "x", &u);
	assert_string_equal(get(o, "CPUPerc"), "--");
	assert_string_equal(get(o, "MemUsage"), "-- / --");
	assert_string_equal(get(o, "PIDs"), "--");
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_payload_roundtrip),
		cmocka_unit_test(test_payload_malformed),
		cmocka_unit_test(test_msg_kinds),
		cmocka_unit_test(test_proc_stat_times),
		cmocka_unit_test(test_qemu_cpu_ns_checks_identity),
		cmocka_unit_test(test_sizes_like_docker),
		cmocka_unit_test(test_row_running),
		cmocka_unit_test(test_row_stopped_and_unknown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
