/* Docker's time arguments (timearg.h): logs, events and the prune filters of the CLI and the Engine API. */
#include "timearg.h"

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "../common/clock.h"
#include "../common/goduration.h"
#include "logfile.h"

/* Docker's local-time forms: "2006-01-02", "2006-01-02T15:04:05[.frac]"
 * (the host's time zone). -1 if s is not one. */
static long long local_time_ns(const char *s)
{
	static const char *const forms[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		struct tm tm = {0};
		const char *end = strptime(s, forms[i], &tm);
		if (!end)
			continue;
		double frac = 0;
		if (i == 0 && *end == '.') {
			char *fend;
			frac = strtod(end, &fend);
			end = fend;
		}
		if (*end)
			continue;
		tm.tm_isdst = -1;
		time_t t = mktime(&tm);
		if (t < 0 || t >= 9000000000LL || frac < 0 || frac >= 1) /* past 2255: out of long long ns */
			return -1;
		return (long long)t * 1000000000LL + (long long)(frac * 1e9);
	}
	return -1;
}

int bx_time_arg(const char *s, long long now_ns, long long *out)
{
	long long t = bx_log_time_parse(s);
	if (t < 0)
		t = local_time_ns(s);
	if (t >= 0) {
		*out = t;
		return 0;
	}
	char *end;
	double v = strtod(s, &end);
	if (end != s && !*end && v >= 0 && v < 9e9) { /* 9e9 s: past year 2255, within long long ns */
		*out = (long long)(v * 1e9);
		return 0;
	}
	/* Go's time.ParseDuration, back from now ("-5s" is ahead of it), as
	 * Docker's GetTimestamp; "0" was taken as unix seconds above, as there */
	long long dur;
	if (bx_goduration_parse(s, &dur, NULL) < 0 || (dur < 0 && now_ns > LLONG_MAX + dur))
		return -1;
	*out = now_ns - dur;
	return 0;
}

int bx_time_flag(const char *flag, const char *s, long long *out, struct bx_err *err)
{
	if (bx_time_arg(s, bx_real_ns(), out) < 0)
		return bx_fail(err, 0, "invalid --%s '%s': use a timestamp (2026-11-28T10:00:00Z), unix seconds or a duration (10m, 1h)",
			       flag, s);
	return 0;
}
