/* A QMP (QEMU Machine Protocol) client for what boxvm asks of QEMU's
 * monitor: run a command ("stop", "cont"; `update`'s "balloon" and
 * "query-memory-size-summary") and wait for its answer. The shim talks to
 * RUN/qmp.sock, and `update` (as root, like the shim) for the balloon; QEMU
 * serves one connection at a time, the next waits. Each request is one short
 * connection (greeting, qmp_capabilities, the command), so no monitor state
 * outlives it and a QEMU that restarts with the box needs nothing redone. */
#ifndef BOXVM_QMP_H
#define BOXVM_QMP_H

#include <stddef.h>

#include <jansson.h>

#include "../common/err.h"

/* What one line QEMU sends is. Asynchronous events ({"event": ...}) may come
 * before the answer to a command at any time and are skipped. */
enum bx_qmp_line {
	BX_QMP_BAD,      /* not JSON, or no key we know */
	BX_QMP_GREETING, /* {"QMP": {...}} */
	BX_QMP_RETURN,   /* {"return": ...}: the command succeeded */
	BX_QMP_ERROR,    /* {"error": {"class", "desc"}}: desc copied to desc */
	BX_QMP_EVENT,    /* {"event": ...} */
};
/* Pure: classify one line (without its newline); for BX_QMP_ERROR the
 * error's description (or its class) goes to desc. */
enum bx_qmp_line bx_qmp_classify(const char *line, char *desc, size_t desc_size);

/* Connect to the monitor at sock_path, negotiate capabilities and execute cmd;
 * 0 once QEMU answered "return". A hang guard of timeout_ms bounds the whole
 * exchange (QEMU answers within milliseconds unless it is wedged). */
int bx_qmp_execute(const char *sock_path, const char *cmd, int timeout_ms, struct bx_err *err);
/* The same with arguments (a JSON object's text, or NULL); *ret (when not
 * NULL) gets the answer's "return" value (NULL if none; the caller
 * json_decrefs it). QEMU runs code the guest steers: what it answers is
 * bounded (8 KiB a line) and checked by the caller before use. */
int bx_qmp_call(const char *sock_path, const char *cmd, const char *args, json_t **ret, int timeout_ms,
		struct bx_err *err);

#endif
