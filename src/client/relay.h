/* The CLI end of an interactive session over a Unix socket speaking the
 * session messages of src/proto/msg.h: used for exec (RUN/exec.sock, where
 * output arrives as STDOUT/STDERR messages) and for a terminal attach to the
 * main process (RUN/attach.sock, where the shim writes output to our fds and
 * sends only ERROR/EXIT). Stdin goes out as STDIN messages, host signals as
 * SIGNAL, SIGWINCH as RESIZE; with a terminal the input is raw and scanned
 * for the detach keys. Nothing is buffered beyond one read: stdin is read
 * only while the socket takes what was read before. */
#ifndef BOXVM_CLI_RELAY_H
#define BOXVM_CLI_RELAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "tty_keys.h"

/* A relay run by a service for a remote client (the Engine API's exec):
 * no host signals are touched (the service's own signalfd must keep them),
 * no host terminal is put in raw mode, output goes through out (-1: that
 * client is gone, its output dropped), and the terminal's size arrives on
 * resize_fd as records of 4 bytes (u16 rows, u16 cols, proto byte order).
 * hup_fd's hang-up ends the relay (err: "the client hung up"); in_pre is
 * input that came before the relay started (sent first). */
struct bx_relay_svc {
	int (*out)(void *ctx, int which, const uint8_t *p, size_t len);
	void (*started)(void *ctx, int pid); /* STARTED came: the process's guest pid */
	void *ctx;
	int resize_fd; /* -1: none */
	int hup_fd;    /* -1: none */
	const uint8_t *in_pre;
	size_t in_pre_len;
};

struct bx_relay_opts {
	int in_fd;               /* -1: no stdin is forwarded */
	int out_fd, err_fd;      /* where STDOUT/STDERR messages go */
	bool tty;                /* in_fd/out_fd are a terminal put into raw mode; RESIZE follows it */
	int tty_fd;              /* the terminal (its size; raw mode) when tty */
	struct bx_detach detach; /* tty only; n = 0: no detaching */
	const char *what;        /* for messages: "box 1234abcd5678" */
	const struct bx_relay_svc *svc; /* NULL: the CLI's own stdio and terminal */
	/* NULL, or called once when the process has started (STARTED came) */
	void (*on_started)(void *ctx);
	void *on_started_ctx;
};

struct bx_relay_result {
	int code;      /* EXIT's code */
	bool detached; /* the user typed the detach keys */
	bool started;  /* the process ran (STARTED came): an EXIT without it is a failed start */
	int pid;       /* STARTED's guest pid (0: unknown) */
	char start_error[512]; /* not started: why, as the guest said it ("" if it did not) */
};

/* Run the session on sock (already connected and past its handshake) until
 * EXIT, detach, or the connection ends. Returns 0 with *res, or -1 with err
 * (an ERROR from the other side, or the connection lost before EXIT). */
int bx_relay_run(int sock, const struct bx_relay_opts *o, struct bx_relay_result *res, struct bx_err *err);

/* Send one whole message on a blocking socket. */
int bx_relay_send_msg(int sock, uint8_t kind, const void *payload, uint32_t len, struct bx_err *err);

#endif
