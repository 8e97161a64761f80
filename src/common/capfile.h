/* A log file with a size ceiling, for output that comes from a guest or from
 * QEMU (the serial console, QEMU's stderr): whoever writes there cannot fill
 * the host's disk. The file keeps the newest bytes: once a write would take
 * it past the ceiling, it is cut to the last half of the ceiling (the old
 * tail moved to the front, then the new bytes), so it stays an ordinary
 * text file that `tail` and editors read, and the amortized cost is one
 * extra copy of what was written. */
#ifndef BOXVM_CAPFILE_H
#define BOXVM_CAPFILE_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define BX_CONSOLE_CAP (1024 * 1024) /* BOXDIR/console.log, BOXDIR/qemu.log */

struct bx_capfile {
	int fd;    /* -1: closed */
	off_t size;
	off_t cap;
};

/* Create (or truncate) path, mode 0600, for writing with a ceiling of cap bytes (>= 2). */
int bx_capfile_open(struct bx_capfile *f, const char *path, off_t cap, struct bx_err *err);
int bx_capfile_write(struct bx_capfile *f, const void *buf, size_t len, struct bx_err *err);
void bx_capfile_close(struct bx_capfile *f);

/* The last max bytes of path (all of it if smaller), malloc'd and
 * NUL-terminated: what a failed boot's message quotes, without reading
 * the whole file. */
int bx_read_tail(const char *path, size_t max, char **out, size_t *len, struct bx_err *err);

#endif
