/* How boxes are shown: ps rows and inspect objects (Docker's shapes), the
 * human status line ("Up 5 seconds", "Exited (0) 3 minutes ago"), and ps
 * filters. */
#ifndef BOXVM_BOX_BOX_VIEW_H
#define BOXVM_BOX_BOX_VIEW_H

#include <regex.h>
#include <jansson.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../store/state.h"

/* Docker's units.HumanDuration ("Less than a second", "5 seconds", "About a minute", ...). */
void bx_human_duration(long long ns, char *out, size_t size);
/* "Up 5 seconds", "Exited (137) 2 minutes ago", "Created", "Restarting (1) 1 second ago" */
void bx_box_status_line(const struct bx_box_record *r, long long now_ns, char *out, size_t size);
/* RFC 3339 with nanoseconds (0 -> "0001-01-01T00:00:00Z", as Docker). */
void bx_time_rfc3339(long long ns, char *out, size_t size);

/* The row object of `ps --format`: ID, Image, Command, CreatedAt, RunningFor,
 * Status, State, Names, Labels (from labels, the box's Config.Labels, in the
 * order to show; NULL: none), Ports. */
json_t *bx_box_ps_json(const struct bx_box_record *r, json_t *labels, bool no_trunc, long long now_ns);
/* The Engine API's list row (Docker's types.Container) of a box; cfg: its
 * config.json (may be NULL). */
json_t *bx_box_list_json(const struct bx_box_record *r, json_t *cfg, long long now);
/* The object of `inspect` (config.json merged with the record). */
json_t *bx_box_inspect_json(const struct bx_box_record *r);

/* Give a Config object (a box's or an image's) the fields Docker always
 * shows, where they are missing: Domainname, User and WorkingDir "" (also for
 * null), Entrypoint, Volumes and OnBuild null, Labels (empty_labels: {} for a
 * box, null for an image) with the keys sorted, as Go writes a map. */
void bx_docker_config_defaults(json_t *config, json_t *empty_labels);

/* Images, as `image inspect` and the Engine API's image list show them. */
struct bx_image;
/* The object `image inspect` shows for the image ref names (Docker's defaults
 * in its Config); NULL with err if there is no such image. */
json_t *bx_image_inspect_view(const struct bx_paths *p, const char *ref, struct bx_err *err);
/* The Engine API's image list row (Docker's types.ImageSummary). */
json_t *bx_image_list_json(const struct bx_image *img);

/* ps --filter: KEY=VALUE with KEY id, name, label, status; the same key
 * ORs, different keys AND (Docker). */
struct bx_box_filters {
	char **ids, **labels, **statuses, **healths;
	regex_t *names; /* name=REGEXP, compiled once */
	size_t nnames;
};
int bx_box_filter_add(struct bx_box_filters *f, const char *kv, struct bx_err *err);
/* labels: the box's Config.Labels object (may be NULL) */
bool bx_box_filter_match(const struct bx_box_filters *f, const struct bx_box_record *r, json_t *labels);
void bx_box_filters_free(struct bx_box_filters *f);

#endif
