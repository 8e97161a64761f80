/* Reading a box's json-file log, for every front end (`boxvm logs`, the
 * Engine API's logs): the rotated files oldest first, then the current one,
 * filtered by time and tail; with follow, the entries written afterwards
 * (across rotations) until the box stops. Pull-based, so a reader decides
 * how to wait (bx_logread_fd) and when to give up (a client gone). */
#ifndef BOXVM_STORE_LOGREAD_H
#define BOXVM_STORE_LOGREAD_H

#include <stdbool.h>
#include <sys/types.h>

#include "../common/err.h"
#include "logfile.h"

struct bx_logread_opts {
	long long since_ns; /* 0: all */
	long long until_ns; /* 0: no end */
	long tail;          /* -1: all */
	bool follow;
};

struct bx_logread;

/* current: the json.log to read (a kept log of a --rm box too); box_dir:
 * the box to follow (NULL: never followed, it is over). */
int bx_logread_open(const char *box_dir, const char *current, const struct bx_logread_opts *o, struct bx_logread **out,
		    struct bx_err *err);
enum bx_logread_res { BX_LOGREAD_END, BX_LOGREAD_ENTRY, BX_LOGREAD_AGAIN };
/* The next entry (ENTRY: *e filled, bx_log_entry_free it), END (all read;
 * when following, the box stopped), or AGAIN (following: nothing new yet;
 * poll bx_logread_fd for POLLIN, then ask again). */
enum bx_logread_res bx_logread_next(struct bx_logread *r, struct bx_log_entry *e);
/* Readable when the box's directory changed (inotify); -1: none, ask again
 * after a short pause. */
int bx_logread_fd(const struct bx_logread *r);
/* Drop what woke bx_logread_fd. */
void bx_logread_ack(struct bx_logread *r);
void bx_logread_close(struct bx_logread *r);

#endif
