/* Docker's time arguments (its timetypes.GetTimestamp): what `logs
 * --since/--until` and the prune filters' `until=` take. */
#ifndef BOXVM_STORE_TIMEARG_H
#define BOXVM_STORE_TIMEARG_H

#include "../common/err.h"

/* s as unix ns: a duration before now_ns ("42m", "1h30m", "10s"; a leading
 * '-' is ahead of it), unix seconds[.frac], RFC 3339, or Docker's local-time
 * dates ("2006-01-02", "2006-01-02T15:04:05[.frac]", the host's time zone).
 * 0, or -1 when s is none of them. */
int bx_time_arg(const char *s, long long now_ns, long long *out);
/* The same relative to the current time, for the --since/--until of logs and
 * events: -1 with err naming the flag when s is none of them. */
int bx_time_flag(const char *flag, const char *s, long long *out, struct bx_err *err);

#endif
