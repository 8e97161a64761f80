/* The hostile-guest test mode: the agent misbehaves on purpose so that
 * tests/integration/test_hostile_guest.py can check that the host holds.
 * Compiled only into the test build (make SANITIZE=1 defines
 * BOXVM_TEST_HOOKS for the agent); a release agent has none of it. Chosen
 * by the kernel command line word boxvm.test_hostile=MODE:
 *   flood       write OPEN+CLOSE pairs for a port the host does not serve
 *               straight to the control port, bypassing the mux, and never
 *               read the port: every OPEN makes the host queue an OPEN_ERR.
 *               Up to FLOOD_BYTES, or until the host has stopped taking
 *               bytes for FLOOD_STALL_MS; then power off.
 *   error_ctrl  ERROR messages whose text holds terminal escape sequences,
 *               through the normal path: 64 on the main channel, and one
 *               (then CLOSE, no EXIT) as the answer to every exec request.
 *   mute_main   serve as usual but never start main (no STARTED, no EXIT):
 *               the host must not wait for it forever.
 *   podnet      a pod's box (podnet.c) that lies about its ports: at each
 *               scan, a set of the most ports allowed that moves on by 7
 *               ports each time, every third one out of order, and a
 *               channel opened to a port the pod does not serve. */
#ifdef BOXVM_TEST_HOOKS
#include "agent.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#define FLOOD_BYTES (256ull * 1024 * 1024)
#define FLOOD_STALL_MS 10000
#define FLOOD_HOST_WAIT_MS 30000 /* the host end may not be connected yet */

const char agent_hostile_text[] = "hostile \x1b]0;pwned\x07\x1b[2J\x1b[31mred\r\bDEL\x7f C1\xc2\x9b" "31m end";

enum agent_hostile agent_hostile_mode(void)
{
	if (agent_cmdline_has("boxvm.test_hostile=flood"))
		return HOSTILE_FLOOD;
	if (agent_cmdline_has("boxvm.test_hostile=error_ctrl"))
		return HOSTILE_ERROR_CTRL;
	if (agent_cmdline_has("boxvm.test_hostile=mute_main"))
		return HOSTILE_MUTE_MAIN;
	if (agent_cmdline_has("boxvm.test_hostile=podnet"))
		return HOSTILE_PODNET;
	return HOSTILE_NONE;
}

void agent_hostile_flood(int fd)
{
	/* OPEN channel 2 on port 4089, then CLOSE channel 2 (see src/proto/frame.h) */
	static const uint8_t pair[28] = {2, 0, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 0xf9, 0x0f, 0, 0,
					 2, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0};
	static uint8_t buf[sizeof(pair) * 2048];
	for (size_t off = 0; off < sizeof(buf); off += sizeof(pair))
		memcpy(buf + off, pair, sizeof(pair));
	unsigned long long sent = 0;
	size_t off = 0; /* into buf: partial writes keep the frames whole on the wire */
	uint64_t host_deadline = agent_now_ms() + FLOOD_HOST_WAIT_MS;
	const char *why = "done";
	agent_err("test_hostile=flood: flooding the control port");
	while (sent < FLOOD_BYTES) {
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int r = poll(&p, 1, FLOOD_STALL_MS);
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			why = "the host stopped reading";
			break;
		}
		ssize_t n = r > 0 && !(p.revents & POLLHUP) ? write(fd, buf + off, sizeof(buf) - off) : -1;
		if (n > 0) {
			sent += (unsigned long long)n;
			off = (off + (size_t)n) % sizeof(buf);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			continue;
		/* not connected yet (POLLHUP, EPIPE): wait for the host end */
		if (agent_now_ms() >= host_deadline) {
			why = "the host end never connected";
			break;
		}
		usleep(20000);
	}
	agent_err("test_hostile=flood: wrote %llu bytes (%s); powering off", sent, why);
	agent_poweroff();
}
#endif
