/* Session messages carried inside one mux channel (a byte stream).
 *
 * Each message: u8 kind | u32 len (LE) | len bytes. Max len BX_MSG_MAX.
 * Services (ports) and who sends what:
 *   4089 exec: host sends PING -> guest answers PONG and closes (heartbeat);
 *              or host sends STATS -> guest answers STATS_REPLY (the guest's
 *              /proc numbers, src/proto/stats.h) and closes (boxvm stats);
 *              or host sends REQ (a bx_spec) -> guest starts the process and
 *              streams STDOUT/STDERR, then EXIT; host may send STDIN,
 *              STDIN_EOF, SIGNAL, RESIZE. A refused start is ERROR + EXIT.
 *   4090 pty:  as exec, with the process on a pty (STDOUT only).
 *   4091 main: host attaches to the box's main process (spawned at boot from
 *              the spec in the initramfs). Guest streams buffered STDOUT/STDERR,
 *              then EXIT once the process exited and its output is drained;
 *              host answers EXIT_ACK, after which the agent powers the VM off.
 *              TIME: the host's wall clock, sent first once the channel is
 *              open, after every unpause and every BX_TIME_RESYNC_MS; the
 *              agent spawns main only after the first one (the guest has no
 *              RTC and would start at 1970).
 *   4092 podnet and 0x10000+P: a pod's port following (src/proto/podnet.h).
 */
#ifndef BOXVM_MSG_H
#define BOXVM_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "../common/bytes.h"
#include "../common/err.h"

#define BX_PORT_EXEC 4089
#define BX_PORT_PTY 4090
#define BX_PORT_MAIN 4091
/* Or'ed into the port of an exec.sock handshake: a detached session (exec -d)
 * whose process outlives the client (see src/shim/README.md). */
#define BX_EXEC_DETACHED 0x80000000u
/* Or'ed in too: the session is the user's `exec`, whose Docker events
 * (exec_create, exec_start, exec_die) the shim logs; the execs behind
 * `top` and `cp` do not set it, as Docker logs none for those. */
#define BX_EXEC_EVENTS 0x40000000u
/* The byte of flags a client sends with fds 0, 1, 2 on RUN/attach.sock. */
#define BX_ATTACH_STDIN 1      /* forward stdin */
#define BX_ATTACH_KEEP_FDS 2   /* keep writing output to the fds after the socket closes */
#define BX_ATTACH_STDIN_MSGS 4 /* stdin comes as STDIN/STDIN_EOF messages on the socket (terminal relay) */
#define BX_ATTACH_STARTED 8    /* tell the client STARTED (guest pid) once main runs (boxvm-runtime's start) */
#define BX_ATTACH_GUEST_UP 16  /* tell the client GUEST_UP once the guest answers (a held main: exec works) */

#define BX_MSG_HDR_SIZE 5
#define BX_MSG_MAX (1024u * 1024u)
/* An ERROR is one line of text from the other side; a reader shows at most
 * this much of it (the rest of a longer one, e.g. from a hostile guest, is
 * dropped rather than copied into logs and terminals). */
#define BX_MSG_ERROR_TEXT_MAX 1024u

/* Spare NICs (src/vm/vmspec.h): the guest knows spare N by this MAC, and
 * how many there are by "boxvm.spares=N" on its kernel command line. */
#define BX_SPARE_MAC_FMT "02:b0:00:00:00:%02x"

enum bx_msg_kind {
	BX_M_PING = 1,      /* host->guest; payload ignored */
	BX_M_PONG = 2,      /* guest->host */
	BX_M_REQ = 3,       /* host->guest: encoded bx_spec */
	BX_M_STDIN = 4,
	BX_M_STDIN_EOF = 5,
	BX_M_STDOUT = 6,
	BX_M_STDERR = 7,
	BX_M_EXIT = 8,      /* guest->host: i32 LE exit code (128+N for signal N) */
	BX_M_SIGNAL = 9,    /* host->guest: i32 LE signal number */
	BX_M_RESIZE = 10,   /* host->guest: u16 rows, u16 cols */
	BX_M_ERROR = 11,    /* guest->host: one-line text (also written to stderr stream) */
	BX_M_EXIT_ACK = 12, /* host->guest on the main channel */
	BX_M_STARTED = 13,  /* guest->host: i32 LE guest pid of the process */
	BX_M_STATS = 14,    /* host->guest, first on an exec channel; payload ignored */
	BX_M_STATS_REPLY = 15, /* guest->host: struct bx_guest_stats (src/proto/stats.h) */
	BX_M_TIME = 16,     /* host->guest on the main channel: i64 LE ns since the epoch (CLOCK_REALTIME) */
	/* host->guest, first on an exec channel: network changes of a running
	 * box, text lines (src/agent/pure/netconf.h, bx_netcmd); guest->host: the
	 * answer, empty when every line was applied, else one line saying why not */
	BX_M_NETCFG = 17,
	/* guest->host on the main channel: the guest kernel's OOM killer killed a
	 * process of the box (i32 LE its guest pid): Docker's "oom" event */
	BX_M_OOM = 18,
	/* host->guest, first on an exec channel: one live limit of the box's
	 * cgroup in the guest, "FILE=VALUE" (src/agent/pure/limit.h's
	 * whitelist); guest->host: the answer, empty when set, else one line
	 * saying why not (as BX_M_NETCFG) */
	BX_M_LIMIT = 19,
	/* shim->attached client only (never on the guest link; a guest's is
	 * ignored): the guest answers, so its agent takes execs (BX_ATTACH_GUEST_UP) */
	BX_M_GUEST_UP = 20,
	/* host->guest, first on an exec channel of a pool VM (one booted before
	 * its box existed, "boxvm.pool=1", docs/ARCHITECTURE.md "Warm pool"):
	 * the box it now serves, bx_claim_encode's payload; guest->host: the
	 * answer, empty once the box is set up (root switched, mounts, network),
	 * else one line saying why not (as BX_M_NETCFG). Once per VM. */
	BX_M_CLAIM = 21,
	/* guest->host on the podnet channel (src/proto/podnet.h): the TCP ports
	 * the guest's processes listen on, the whole set each time it changes */
	BX_M_LISTENING = 22,
	/* host->guest on the podnet channel: the ports the pod's other
	 * containers serve on its loopback, the whole set each time it changes */
	BX_M_POD_PORTS = 23,
	BX_M_KIND_MAX = 23,
};

/* Incremental parser: append bytes, then pop whole messages. */
struct bx_msgbuf {
	struct bx_bytes q;
	size_t handed; /* the message bx_msgbuf_next handed out last, dropped on the next call */
};

struct bx_msg {
	uint8_t kind;
	uint32_t len;
	const uint8_t *payload; /* valid until the next append/pop */
};

void bx_msgbuf_init(struct bx_msgbuf *b);
void bx_msgbuf_free(struct bx_msgbuf *b);
int bx_msgbuf_append(struct bx_msgbuf *b, const void *data, size_t len, struct bx_err *err);
/* Returns 1 and fills *m when a whole message is available (consumed on the
 * next call), 0 if more bytes are needed, -1 on a malformed message. */
int bx_msgbuf_next(struct bx_msgbuf *b, struct bx_msg *m, struct bx_err *err);
/* The kind of the whole message at the front (not taken: bx_msgbuf_next
 * hands it out next), or 0 if none is complete yet or it is malformed. The
 * message bx_msgbuf_next handed out last is dropped first: its payload
 * pointer is no longer valid after this call. */
uint8_t bx_msgbuf_peek_kind(struct bx_msgbuf *b);

/* A claim's payload (BX_M_CLAIM): u32 LE length of the netconf text (the
 * /boxvm/net a cold boot would have, src/vm/vmspec.h bx_vm_netconf), that
 * text, then the box's encoded bx_spec (what a cold boot reads from
 * /boxvm/spec). encode: malloc'd into *out. split: pointers into p (pure,
 * bounded by len). */
int bx_claim_encode(const char *netconf, size_t netconf_len, const uint8_t *spec, size_t spec_len, uint8_t **out,
		    size_t *out_len, struct bx_err *err);
int bx_claim_split(const uint8_t *p, size_t len, const char **netconf, size_t *netconf_len, const uint8_t **spec,
		   size_t *spec_len, struct bx_err *err);

/* Encode a header into out[BX_MSG_HDR_SIZE]. */
void bx_msg_encode_hdr(uint8_t out[BX_MSG_HDR_SIZE], uint8_t kind, uint32_t len);
/* Encode header + payload into out[0..cap). Returns the bytes written
 * (BX_MSG_HDR_SIZE + len), or -1 if len exceeds BX_MSG_MAX or cap is too small. */
int bx_msg_encode(uint8_t *out, size_t cap, uint8_t kind, const void *payload, size_t len,
		  struct bx_err *err);

/* TIME (see above). The host re-sends it this often against TCG drift. */
#define BX_MSG_TIME_SIZE 8
#define BX_TIME_RESYNC_MS 60000
void bx_msg_time_encode(uint8_t out[BX_MSG_TIME_SIZE], int64_t ns);
/* -1 unless the payload is exactly BX_MSG_TIME_SIZE bytes holding a time
 * after the epoch (a zero or negative one is a broken sender, not a time). */
int bx_msg_time_decode(const uint8_t *p, size_t len, int64_t *ns, struct bx_err *err);

#endif
