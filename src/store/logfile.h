/* Docker's json-file log: one JSON object per line,
 *   {"log":"text\n","stream":"stdout","time":"2026-11-28T10:00:00.123456789Z"}
 * in DATA/boxes/<id>/json.log, rotated to json.log.1 .. json.log.(max_file-1)
 * when max_size would be exceeded. Output is split at newlines; a line with
 * no newline yet waits (up to 16 KiB, as Docker) for the rest. */
#ifndef BOXVM_LOGFILE_H
#define BOXVM_LOGFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/err.h"
#include "boxconfig.h"

#define BX_LOG_NAME "json.log"
#define BX_LOG_PARTIAL_MAX 16384

struct bx_log_writer {
	char path[4096];
	struct bx_log_opts opts;
	int fd;
	long long size;
	char partial[2][BX_LOG_PARTIAL_MAX]; /* stdout, stderr */
	size_t partial_len[2];
};

int bx_log_open(struct bx_log_writer *w, const char *box_dir, const struct bx_log_opts *opts, struct bx_err *err);
/* stream 0 = stdout, 1 = stderr; t_ns = unix time of the bytes. */
int bx_log_write(struct bx_log_writer *w, int stream, const void *buf, size_t len, long long t_ns, struct bx_err *err);
/* Write out unfinished lines (the process ended). */
int bx_log_flush(struct bx_log_writer *w, long long t_ns, struct bx_err *err);
void bx_log_close(struct bx_log_writer *w);

/* One encoded line (pure): appends to *out (malloc'd, *out_len grows). */
int bx_log_encode(int stream, const char *text, size_t len, long long t_ns, char **out, size_t *out_len);
/* RFC 3339 with nanoseconds, UTC. */
void bx_log_time_format(long long t_ns, char out[40]);
/* RFC 3339 (any fraction, Z or +hh:mm) -> unix ns; -1 if not one. */
long long bx_log_time_parse(const char *s);

struct bx_log_entry {
	int stream; /* 0 stdout, 1 stderr */
	long long t_ns;
	char time[40]; /* as written */
	char *text;    /* malloc'd */
	size_t len;
};
/* Parse one line of a json-file log (pure). */
int bx_log_decode(const char *line, size_t len, struct bx_log_entry *e);
void bx_log_entry_free(struct bx_log_entry *e);

#endif
