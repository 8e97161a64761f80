/* The one-line replies boxvm's own processes send each other over pipes and
 * sockets ("ok" or "error[ CODE]: MESSAGE"): shim -> CLI on the sync pipe, monitor
 * and exec relay -> boxvm-runtime, monitor control socket. */
#ifndef BOXVM_REPLY_H
#define BOXVM_REPLY_H

#include <stddef.h>

#include "err.h"

/* Read from fd up to the first newline, EOF, size-1 bytes or timeout_ms
 * (< 0: no timeout); the newline is stripped and line NUL-terminated.
 * Returns the line's length (0 when nothing came). */
size_t bx_reply_read(int fd, char *line, size_t size, int timeout_ms);
/* 0 for "ok"; -1 with err = MESSAGE for "error: MESSAGE" (exit code 125)
 * or "error CODE: MESSAGE" (exit code CODE, 1..255); -1 with err = `silent`
 * for anything else (the peer died without answering). */
int bx_reply_check(const char *line, const char *silent, struct bx_err *err);
/* Read until EOF (the peer closing: for a process, its exit). */
void bx_reply_drain(int fd);

#endif
