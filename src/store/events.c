/* The event log's records and its writer: Docker's event shape, encoding
 * (pure), the append under DATA/events.lock and the rotation (events.h). */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/bytes.h"
#include "../common/cleanup.h"
#include "../common/clock.h"
#include "../common/paths.h"
#include "state.h"

int bx_event_init(struct bx_event *ev, const char *type, const char *action, const char *actor_id)
{
	memset(ev, 0, sizeof(*ev));
	snprintf(ev->type, sizeof(ev->type), "%s", type);
	snprintf(ev->action, sizeof(ev->action), "%s", action);
	snprintf(ev->actor_id, sizeof(ev->actor_id), "%s", actor_id ? actor_id : "");
	ev->attrs = json_object();
	return ev->attrs ? 0 : -1;
}

void bx_event_set(struct bx_event *ev, const char *key, const char *value)
{
	if (ev->attrs && key && value)
		json_object_set_new(ev->attrs, key, json_string(value));
}

void bx_event_free(struct bx_event *ev)
{
	json_decref(ev->attrs);
	ev->attrs = NULL;
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of an object, sorted (malloc'd array; *n set). */
static const char **sorted_keys(json_t *o, size_t *n)
{
	*n = json_object_size(o);
	const char **keys = calloc(*n ? *n : 1, sizeof(*keys));
	if (!keys)
		return NULL;
	size_t k = 0;
	const char *key;
	json_t *v;
	json_object_foreach(o, key, v) keys[k++] = key;
	qsort(keys, *n, sizeof(*keys), by_key);
	return keys;
}

static const char *attr(const struct bx_event *ev, const char *key)
{
	return json_string_value(json_object_get(ev->attrs, key));
}

json_t *bx_event_json(const struct bx_event *ev, bool with_seq)
{
	json_t *o = json_object(), *attrs = json_object();
	size_t n;
	const char **keys = sorted_keys(ev->attrs, &n);
	if (!o || !attrs || !keys) {
		json_decref(o);
		json_decref(attrs);
		free(keys);
		return NULL;
	}
	for (size_t i = 0; i < n; i++)
		json_object_set(attrs, keys[i], json_object_get(ev->attrs, keys[i]));
	free(keys);
	if (with_seq)
		json_object_set_new(o, "seq", json_integer((json_int_t)ev->seq));
	/* Docker 20.10 fills the deprecated status/id/from of container and
	 * image events only (omitted when empty) */
	bool container = !strcmp(ev->type, "container");
	if (container || !strcmp(ev->type, "image")) {
		json_object_set_new(o, "status", json_string(ev->action));
		if (ev->actor_id[0])
			json_object_set_new(o, "id", json_string(ev->actor_id));
		const char *from = attr(ev, "image");
		if (container && from && from[0])
			json_object_set_new(o, "from", json_string(from));
	}
	json_object_set_new(o, "Type", json_string(ev->type));
	json_object_set_new(o, "Action", json_string(ev->action));
	json_object_set_new(o, "Actor", json_pack("{s:s,s:o}", "ID", ev->actor_id, "Attributes", attrs));
	json_object_set_new(o, "scope", json_string("local"));
	json_object_set_new(o, "time", json_integer((json_int_t)(ev->time_ns / 1000000000LL)));
	json_object_set_new(o, "timeNano", json_integer((json_int_t)ev->time_ns));
	return o;
}

char *bx_event_encode(const struct bx_event *ev, bool with_seq)
{
	json_t *o = bx_event_json(ev, with_seq);
	char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

static int copy_str(char *out, size_t size, json_t *v)
{
	if (!json_is_string(v) || json_string_length(v) >= size)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

int bx_event_decode(const char *line, size_t len, struct bx_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (len > BX_EVENT_LINE_MAX)
		return -1;
	json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, NULL);
	json_t *actor = json_object_get(o, "Actor"), *attrs = json_object_get(actor, "Attributes");
	json_t *seq = json_object_get(o, "seq"), *t = json_object_get(o, "timeNano");
	if (!json_is_object(o) || copy_str(ev->type, sizeof(ev->type), json_object_get(o, "Type")) < 0 ||
	    copy_str(ev->action, sizeof(ev->action), json_object_get(o, "Action")) < 0 ||
	    (actor && copy_str(ev->actor_id, sizeof(ev->actor_id), json_object_get(actor, "ID")) < 0) ||
	    (seq && !json_is_integer(seq)) || (t && !json_is_integer(t)) || !(ev->attrs = json_object())) {
		json_decref(o);
		return -1;
	}
	ev->seq = seq ? (unsigned long long)json_integer_value(seq) : 0;
	ev->time_ns = t ? (long long)json_integer_value(t) : 0;
	const char *key;
	json_t *v;
	json_object_foreach(attrs, key, v) {
		if (json_is_string(v))
			json_object_set(ev->attrs, key, v);
	}
	json_decref(o);
	return 0;
}

/* the line being built; a failure to grow it sticks (oom) */
struct sbuf {
	struct bx_bytes q;
	bool oom;
};

static void put(struct sbuf *b, const char *s)
{
	if (!b->oom && bx_bytes_push(&b->q, s, strlen(s), NULL) < 0)
		b->oom = true;
}

char *bx_event_format_line(const struct bx_event *ev)
{
	/* Go's RFC3339NanoFixed in the local zone: "Z" for UTC, else +hh:mm */
	time_t sec = (time_t)(ev->time_ns / 1000000000LL);
	long frac = (long)(ev->time_ns % 1000000000LL);
	struct tm tm;
	char when[64], zone[48];
	if (!localtime_r(&sec, &tm))
		gmtime_r(&sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	long off = tm.tm_gmtoff;
	if (off == 0)
		snprintf(zone, sizeof(zone), "Z");
	else
		snprintf(zone, sizeof(zone), "%c%02ld:%02ld", off < 0 ? '-' : '+', labs(off) / 3600, labs(off) / 60 % 60);
	char head[128];
	snprintf(head, sizeof(head), "%s.%09ld%s ", when, frac, zone);
	struct sbuf b = {0};
	put(&b, head);
	put(&b, ev->type);
	put(&b, " ");
	put(&b, ev->action);
	put(&b, " ");
	put(&b, ev->actor_id);
	size_t n;
	const char **keys = sorted_keys(ev->attrs, &n);
	if (!keys)
		b.oom = true;
	for (size_t i = 0; keys && i < n; i++) {
		put(&b, i ? ", " : " (");
		put(&b, keys[i]);
		put(&b, "=");
		put(&b, attr(ev, keys[i]));
	}
	if (keys && n)
		put(&b, ")");
	free(keys);
	if (b.oom) {
		bx_bytes_free(&b.q);
		return NULL;
	}
	return bx_bytes_take_str(&b.q, NULL);
}

size_t bx_events_keep_from(const char *buf, size_t len, size_t keep)
{
	if (len <= keep)
		return 0;
	/* the first line that begins at or after len - keep */
	size_t start = len - keep;
	const char *nl = memchr(buf + start - 1, '\n', len - (start - 1));
	return nl ? (size_t)(nl - buf) + 1 : len;
}

/* ---- the writer ---- */

static size_t events_cap(void)
{
	const char *s = getenv("BOXVM_EVENTS_MAX_BYTES");
	char *end;
	unsigned long long v = s && *s ? strtoull(s, &end, 10) : 0;
	if (!v || *end)
		return BX_EVENTS_MAX_BYTES_DEFAULT;
	return v < BX_EVENTS_MAX_BYTES_MIN ? BX_EVENTS_MAX_BYTES_MIN : v > (1ULL << 30) ? (1ULL << 30) : (size_t)v;
}

/* The seq of the last record in the log (0: none), and whether the log
 * ends with a whole line: a writer that died mid-line left a fragment that
 * the next record must not be glued to. */
static unsigned long long tail_seq(int fd, off_t size, bool *ends_nl)
{
	*ends_nl = true;
	if (size <= 0)
		return 0;
	static const size_t chunks[] = {4096, 2 * BX_EVENT_LINE_MAX + 2};
	for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
		size_t n = (size_t)size < chunks[c] ? (size_t)size : chunks[c];
		char *buf = malloc(n);
		if (!buf)
			return 0;
		ssize_t got = pread(fd, buf, n, size - (off_t)n);
		if (got != (ssize_t)n) {
			free(buf);
			return 0;
		}
		*ends_nl = buf[n - 1] == '\n';
		/* whole lines, newest first; the first one in buf is whole only if buf starts the file */
		size_t end = n;
		while (end > 0 && buf[end - 1] != '\n')
			end--; /* a fragment at the end */
		while (end > 0) {
			size_t begin = end - 1;
			while (begin > 0 && buf[begin - 1] != '\n')
				begin--;
			if (begin == 0 && n < (size_t)size)
				break; /* maybe cut: read more */
			struct bx_event ev;
			if (bx_event_decode(buf + begin, end - 1 - begin, &ev) == 0) {
				bx_event_free(&ev);
				free(buf);
				return ev.seq;
			}
			end = begin;
		}
		free(buf);
		if (n == (size_t)size)
			break;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Under the lock: the log becomes its newest half plus line (temp + rename:
 * a reader holding the old file reads it to its end, then finds this one). */
static int rotate(const char *path, int fd, off_t size, const char *line, size_t len, size_t cap, struct bx_err *err)
{
	char *buf = malloc((size_t)size + len);
	if (!buf)
		return bx_fail(err, ENOMEM, "out of memory");
	ssize_t got = pread(fd, buf, (size_t)size, 0);
	if (got != (ssize_t)size) {
		free(buf);
		return bx_fail(err, got < 0 ? errno : EIO, "cannot read %s", path);
	}
	size_t whole = (size_t)size;
	while (whole > 0 && buf[whole - 1] != '\n')
		whole--; /* a fragment a dead writer left goes */
	size_t from = bx_events_keep_from(buf, whole, cap / 2);
	memmove(buf, buf + from, whole - from);
	memcpy(buf + (whole - from), line, len);
	int rc = bx_write_file_atomic(path, buf, whole - from + len, 0600, err);
	free(buf);
	return rc;
}

int bx_event_append(const char *data_dir, struct bx_event *ev, struct bx_err *err)
{
	char lock_path[PATH_MAX], path[PATH_MAX];
	if (bx_path_join(lock_path, sizeof(lock_path), err, "%s/%s", data_dir, BX_EVENTS_LOCK) < 0 ||
	    bx_path_join(path, sizeof(path), err, "%s/%s", data_dir, BX_EVENTS_FILE) < 0 ||
	    bx_mkdir_p(data_dir, 0700, err) < 0)
		return -1;
	_cleanup_close_ int lock = bx_lock_file(lock_path, LOCK_EX, err);
	if (lock < 0)
		return -1;
	/* opened under the lock: a rotation cannot replace it before we write */
	_cleanup_close_ int fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return bx_fail(err, errno, "cannot open %s", path);
	bool ends_nl;
	ev->seq = tail_seq(fd, st.st_size, &ends_nl) + 1;
	ev->time_ns = bx_real_ns();
	char *rec = bx_event_encode(ev, true);
	if (!rec)
		return bx_fail(err, ENOMEM, "cannot encode the event");
	size_t rlen = strlen(rec);
	if (rlen + 2 > BX_EVENT_LINE_MAX) {
		free(rec);
		return bx_fail(err, 0, "event %s %s is too large for the event log (%zu bytes)", ev->type, ev->action, rlen);
	}
	char *line = malloc(rlen + 3);
	if (!line) {
		free(rec);
		return bx_fail(err, ENOMEM, "out of memory");
	}
	size_t len = 0;
	if (!ends_nl) /* a dead writer's fragment ends here, as a line no reader takes */
		line[len++] = '\n';
	memcpy(line + len, rec, rlen);
	len += rlen;
	line[len++] = '\n';
	free(rec);
	size_t cap = events_cap();
	int rc = 0;
	if ((size_t)st.st_size + len > cap) {
		rc = rotate(path, fd, st.st_size, line + !ends_nl, len - !ends_nl, cap, err);
	} else if (write_all(fd, line, len) < 0) {
		/* one write of a whole line; a short one (a full disk) is taken back */
		rc = bx_fail(err, errno, "cannot write %s", path);
		if (ftruncate(fd, st.st_size) < 0) {
			/* the next writer ends the fragment with a newline */
		}
	}
	free(line);
	return rc;
}

int bx_event_emit(const char *data_dir, const char *type, const char *action, const char *actor_id,
		  const char *const *attrs, struct bx_err *err)
{
	struct bx_event ev;
	if (bx_event_init(&ev, type, action, actor_id) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	for (size_t i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
		bx_event_set(&ev, attrs[i], attrs[i + 1]);
	int rc = bx_event_append(data_dir, &ev, err);
	bx_event_free(&ev);
	return rc;
}

/* ---- boxes ---- */

int bx_events_data_dir(const char *box_dir, char *out, size_t size)
{
	char tmp[PATH_MAX];
	if (bx_path_join(tmp, sizeof(tmp), NULL, "%s", box_dir) < 0)
		return -1;
	return bx_path_join(out, size, NULL, "%s", dirname(dirname(tmp)));
}

static json_t *read_config(const char *box_dir)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/config.json", box_dir) < 0)
		return NULL;
	return json_load_file(path, 0, NULL);
}

int bx_event_box_prepare(const char *box_dir, const char *action, const char *const *extra, struct bx_event *ev,
			 struct bx_err *err)
{
	/* as on disk, not reconciled: the shim calls this about its own box */
	struct bx_box_record r;
	if (bx_state_read(box_dir, &r, err) < 0)
		return -1;
	if (bx_event_init(ev, "container", action, r.id) < 0)
		return bx_fail(err, ENOMEM, "out of memory");
	json_t *cfg = read_config(box_dir);
	const char *key;
	json_t *v;
	json_object_foreach(json_object_get(json_object_get(cfg, "Config"), "Labels"), key, v) {
		if (json_is_string(v))
			bx_event_set(ev, key, json_string_value(v));
	}
	json_decref(cfg);
	bx_event_set(ev, "image", r.image);
	bx_event_set(ev, "name", r.name);
	for (size_t i = 0; extra && extra[i] && extra[i + 1]; i += 2)
		bx_event_set(ev, extra[i], extra[i + 1]);
	return 0;
}

int bx_event_box(const char *box_dir, const char *action, const char *const *extra, struct bx_err *err)
{
	char data[PATH_MAX];
	struct bx_event ev;
	if (bx_events_data_dir(box_dir, data, sizeof(data)) < 0)
		return bx_fail(err, ENAMETOOLONG, "box directory path too long");
	if (bx_event_box_prepare(box_dir, action, extra, &ev, err) < 0)
		return -1;
	int rc = bx_event_append(data, &ev, err);
	bx_event_free(&ev);
	return rc;
}

void bx_event_box_volumes(const char *box_dir, bool mount)
{
	char data[PATH_MAX];
	struct bx_box_record r;
	if (bx_events_data_dir(box_dir, data, sizeof(data)) < 0 || bx_state_read(box_dir, &r, NULL) < 0)
		return;
	json_t *cfg = read_config(box_dir);
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(cfg, "Mounts"), i, m) {
		const char *name = json_string_value(json_object_get(m, "Name"));
		const char *type = json_string_value(json_object_get(m, "Type"));
		if (!name || !type || strcmp(type, "volume") != 0)
			continue;
		const char *prop = json_string_value(json_object_get(m, "Propagation"));
		if (mount) {
			const char *dest = json_string_value(json_object_get(m, "Destination"));
			const char *attrs[] = {"container", r.id, "destination", dest ? dest : "", "driver", "local",
					       "propagation", prop ? prop : "", "read/write",
					       json_is_false(json_object_get(m, "RW")) ? "false" : "true", NULL};
			bx_event_emit(data, "volume", "mount", name, attrs, NULL);
		} else {
			const char *attrs[] = {"container", r.id, "driver", "local", NULL};
			bx_event_emit(data, "volume", "unmount", name, attrs, NULL);
		}
	}
	json_decref(cfg);
}
