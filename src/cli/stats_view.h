/* How `boxvm stats` shows a box (pure): Docker's columns and units. */
#ifndef BOXVM_CLI_STATS_VIEW_H
#define BOXVM_CLI_STATS_VIEW_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "../proto/stats.h"

/* go-units BytesSize: "%.4g" with base 1024 (B, KiB, MiB, ...): "245.1MiB" */
void cli_size_binary(double bytes, char *out, size_t size);
/* go-units HumanSizeWithPrecision(n, 3): "%.3g" with base 1000 (B, kB, MB, ...): "1.2kB" */
void cli_size_decimal(double bytes, char *out, size_t size);

/* go-units HumanSize: "%.4g" with base 1000: "1.982MB" (system df, "Total reclaimed space") */
void cli_size_human(double bytes, char *out, size_t size);

struct cli_stats_sample {
	bool running;     /* a box that is not running shows zeros, as Docker */
	bool cpu_known;   /* a CPU interval was measured */
	double cpu_pct;   /* QEMU's CPU time over the interval, % of one host CPU */
	bool guest_known; /* the guest answered (not paused, booted, in time) */
	struct bx_guest_stats g;
};

/* The row with Docker's keys, alphabetical as Docker prints them: BlockIO,
 * CPUPerc, Container, ID, MemPerc, MemUsage, Name, NetIO, PIDs (all
 * strings). Unknown values are "--". */
json_t *cli_stats_json(const char *container, const char *id, const char *name, const struct cli_stats_sample *s);

#endif
