/* The event log: Docker's events (container, image, volume, network) as
 * JSON lines in DATA/events.log, appended by whichever process makes the
 * change (the CLI, a box's shim), read and followed by `boxvm events`.
 *
 * A record is Docker 20.10's events.Message ({"status","id","from","Type",
 * "Action","Actor":{"ID","Attributes"},"scope","time","timeNano"}) with a
 * leading "seq": a number one higher than the record before it, so a reader
 * knows what it has seen across rotations. Appends and rotation happen under
 * an exclusive flock on DATA/events.lock, each record one write(2) of one
 * whole line. The log is bounded: an append that would take it past its cap
 * (BOXVM_EVENTS_MAX_BYTES, default 1 MiB) first rewrites it with only the
 * newest half (temp file + rename). docs/ARCHITECTURE.md, "Events", tells
 * how a follower copes. */
#ifndef BOXVM_STORE_EVENTS_H
#define BOXVM_STORE_EVENTS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../common/err.h"

#define BX_EVENTS_FILE "events.log"
#define BX_EVENTS_LOCK "events.lock"
#define BX_EVENTS_MAX_BYTES_DEFAULT (1024 * 1024)
#define BX_EVENTS_MAX_BYTES_MIN 4096
/* A record longer than this is refused by the writer and skipped by readers. */
#define BX_EVENT_LINE_MAX 65536

struct bx_event {
	unsigned long long seq; /* set by bx_event_append */
	long long time_ns;      /* set by bx_event_append (under the lock, so the log is in time order) */
	char type[16];          /* container, image, volume, network */
	char action[1024];      /* create, die, "exec_create: sh -c x", "health_status: healthy" ... */
	char actor_id[256];
	json_t *attrs;          /* object of strings (owned) */
};

/* Start an event (attrs empty); free with bx_event_free. Over-long text is cut. */
int bx_event_init(struct bx_event *ev, const char *type, const char *action, const char *actor_id);
/* Set attribute key to value (NULL: nothing). */
void bx_event_set(struct bx_event *ev, const char *key, const char *value);
void bx_event_free(struct bx_event *ev);

/* Docker's shape (pure): with_seq adds the log's "seq" first. Attributes
 * come out sorted, as Go's encoding/json writes a map. */
json_t *bx_event_json(const struct bx_event *ev, bool with_seq);
/* One compact line (no newline), malloc'd; NULL when out of memory. */
char *bx_event_encode(const struct bx_event *ev, bool with_seq);
/* A line of the log (pure): 0, or -1 if it is not a record. */
int bx_event_decode(const char *line, size_t len, struct bx_event *ev);
/* Docker's default line: "TIME TYPE ACTION ID (k=v, k=v)" with the time in
 * the host's zone, as RFC 3339 with nine fraction digits (malloc'd). */
char *bx_event_format_line(const struct bx_event *ev);

/* Rotation (pure): where in buf (the log, whole lines) the newest part of at
 * most keep bytes begins, at the start of a line. len if nothing fits. */
size_t bx_events_keep_from(const char *buf, size_t len, size_t keep);

/* Append ev to DATA/events.log (sets seq and time_ns), rotating first when
 * it would pass the cap. */
int bx_event_append(const char *data_dir, struct bx_event *ev, struct bx_err *err);
/* The same in one call: attrs are "key", "value", ... pairs ending in NULL
 * (attrs itself may be NULL). Callers ignore a failure: a change is never
 * undone for want of its event (networks.c logs the network ones). */
int bx_event_emit(const char *data_dir, const char *type, const char *action, const char *actor_id,
		  const char *const *attrs, struct bx_err *err);

/* DATA of the box in box_dir (DATA/boxes/<id>). */
int bx_events_data_dir(const char *box_dir, char *out, size_t size);
/* A container event of the box in box_dir, as Docker's: Actor.ID the box's
 * ID, attributes its labels, "image" (as the user named it) and "name",
 * plus extra ("key", "value", ..., NULL; may be NULL). For the health
 * checks: bx_event_box(box_dir, "health_status: healthy", NULL, NULL). */
int bx_event_box_prepare(const char *box_dir, const char *action, const char *const *extra, struct bx_event *ev,
			 struct bx_err *err);
int bx_event_box(const char *box_dir, const char *action, const char *const *extra, struct bx_err *err);
/* Docker's volume "mount" (mount true: container, destination, driver,
 * propagation, read/write) or "unmount" (container, driver) event for each
 * named or anonymous volume the box in box_dir has (its config.json). */
void bx_event_box_volumes(const char *box_dir, bool mount);

/* Filters (pure), Docker's rules: values of one key are ORed, keys ANDed
 * (label= values are all required); container=, volume=, network= match
 * the ID or the name, or a prefix of either; image= the image's name with
 * or without its tag, or its ID; event= the action (a prefix for
 * exec_create, exec_start, health_status); a key Docker does not use for
 * events is accepted and ignored, as Docker 20.10's daemon does. */
struct bx_event_filter {
	char **keys, **values;
	size_t n;
};
/* "key=value"; no '=' is Docker's "bad format of filter (expected name=value)". */
int bx_event_filter_add(struct bx_event_filter *f, const char *kv, struct bx_err *err);
bool bx_event_filter_match(const struct bx_event_filter *f, const struct bx_event *ev);
void bx_event_filter_free(struct bx_event_filter *f);

/* Reading the log. A reader keeps the file it opened: records appended
 * there are read to its end even after a rotation replaced it, then it
 * moves to the new file and skips what it has seen (seq). */
struct bx_events_reader {
	char path[4096];
	int fd;                  /* -1: no log yet */
	ino_t ino;
	unsigned long long last_seq; /* the newest record handed out (or skipped) */
	char *partial;           /* an unfinished line at the end of the file */
	size_t partial_len;
};
void bx_events_reader_init(struct bx_events_reader *r, const char *data_dir);
/* Hand every complete record newer than last_seq to fn (fn returns 0 to go
 * on, anything else to stop: returned as is). fn may keep nothing of ev
 * past its call. */
typedef int (*bx_event_fn)(void *ctx, const struct bx_event *ev);
int bx_events_reader_poll(struct bx_events_reader *r, bx_event_fn fn, void *ctx, struct bx_err *err);
void bx_events_reader_close(struct bx_events_reader *r);

/* The exit code of box_id's newest "die" in the log logged after after_ns:
 * what a waiter reports for a --rm box that was removed before it read the
 * box's record (the shim logs the die before it removes the box). 0 with
 * *code, or -1 (none). */
int bx_events_last_exit(const char *data_dir, const char *box_id, long long after_ns, int *code);

#endif
