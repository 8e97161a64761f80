/* The CLI side of a box's shim: start it, attach stdio to the main process,
 * proxy signals, and collect the exit code. */
#ifndef BOXVM_CLI_SHIM_CLIENT_H
#define BOXVM_CLI_SHIM_CLIENT_H

#include <stdbool.h>

#include "../common/err.h"
#include "../proto/msg.h"
#include "../vm/vmspec.h"

/* Spawn `boxvm-shim --sync-fd N BOXDIR/vm.json` detached (double fork + setsid)
 * and wait for its answer on the sync pipe (src/shim/README.md): "ok" once
 * main runs in the guest, or, for a box whose client attaches at once
 * (hold_output), once passt, virtiofsd, QEMU and its sockets are up; else
 * `error CODE: message` (bx_reply_check). */
int bx_shim_start(const struct bx_vmspec *vm, struct bx_err *err);
/* The same with `--pool` when pool (a warm-pool VM, src/shim/pool.c: "ok"
 * once it is booting). */
int bx_shim_spawn(const struct bx_vmspec *vm, bool pool, struct bx_err *err);
/* Read a shim's answer on its sync pipe (closed here), as bx_shim_start does;
 * id names the box in the message when the shim died silently. */
int bx_shim_sync_wait(int sync, const char *id, struct bx_err *err);
/* The attach handshake on a connected RUN/attach.sock: flags (BX_ATTACH_*,
 * proto/msg.h) + fds 0, 1, 2. */
int bx_shim_send_attach(int sock, unsigned flags, struct bx_err *err);
/* The same with other fds for the box's stdin, stdout and stderr (pipes of the Engine API's attach). */
int bx_shim_send_attach_fds(int sock, unsigned flags, const int fds[3], struct bx_err *err);
/* Attach a raw terminal to a box whose main process is on a pty: input is
 * relayed (scanned for the detach keys), output written by the shim to our
 * fds, SIGWINCH sent as RESIZE. Returns the exit code, or 0 with *detached. */
struct bx_detach;
int bx_shim_attach_tty(const char *run_dir, const char *id, bool forward_stdin, const struct bx_detach *keys,
		       bool *detached, struct bx_err *err);
/* Attach stdin/stdout/stderr; returns the box's exit code, or -1 with err. */
int bx_shim_attach(const struct bx_vmspec *vm, bool forward_stdin, struct bx_err *err);

#endif
