/* Docker's resource values for a box's host cgroup (cglimits.h). */
#include "cglimits.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

long long bx_cg_cfs_quota(long long nano_cpus)
{
	if (nano_cpus <= 0)
		return -1;
	long long q = nano_cpus / (1000000000LL / BX_CFS_PERIOD_US);
	return q < 1000 ? 1000 : q;
}

void bx_cg_cpu_max(long long nano_cpus, char *out, size_t size)
{
	long long q = bx_cg_cfs_quota(nano_cpus);
	if (q < 0)
		snprintf(out, size, "max %d", BX_CFS_PERIOD_US);
	else
		snprintf(out, size, "%lld %d", q, BX_CFS_PERIOD_US);
}

long long bx_cg_shares(long long shares)
{
	if (shares == 0)
		return 1024;
	return shares < BX_CPU_SHARES_MIN ? BX_CPU_SHARES_MIN : shares > BX_CPU_SHARES_MAX ? BX_CPU_SHARES_MAX : shares;
}

uint64_t bx_cg_shares_to_weight(long long shares)
{
	if (shares == 0)
		return 100;
	shares = bx_cg_shares(shares);
	return 1 + ((uint64_t)(shares - 2) * 9999) / 262142;
}

static int bad_list(const char *list, struct bx_err *err)
{
	bx_fail(err, 0, "Invalid value %.100s for cpuset cpus: invalid format: %.100s", list, list);
	err->errnum = EINVAL;
	return -1;
}

/* One number of a list: digits only (strtoul would take " 1" and "+1"). */
static int number(const char **p, unsigned *out)
{
	if (!isdigit((unsigned char)**p))
		return -1;
	unsigned long v = 0;
	while (isdigit((unsigned char)**p)) {
		v = v * 10 + (unsigned long)(*(*p)++ - '0');
		if (v >= BX_CPUSET_MAX)
			return -1;
	}
	*out = (unsigned)v;
	return 0;
}

int bx_cpuset_parse(const char *list, uint64_t mask[BX_CPUSET_MAX / 64], struct bx_err *err)
{
	memset(mask, 0, BX_CPUSET_MAX / 8);
	const char *p = list;
	if (!*p)
		return bad_list(list, err);
	for (;;) {
		unsigned lo, hi;
		if (number(&p, &lo) < 0)
			return bad_list(list, err);
		hi = lo;
		if (*p == '-') {
			p++;
			if (number(&p, &hi) < 0 || hi < lo)
				return bad_list(list, err);
		}
		for (unsigned c = lo; c <= hi; c++)
			mask[c / 64] |= 1ULL << (c % 64);
		if (!*p)
			return 0;
		if (*p++ != ',')
			return bad_list(list, err);
	}
}

int bx_cpuset_check(const char *list, const char *available, struct bx_err *err)
{
	uint64_t want[BX_CPUSET_MAX / 64], have[BX_CPUSET_MAX / 64];
	char avail[BX_CPUSET_TEXT];
	snprintf(avail, sizeof(avail), "%.*s", (int)strcspn(available, "\n"), available);
	if (bx_cpuset_parse(list, want, err) < 0)
		return -1;
	if (bx_cpuset_parse(avail, have, NULL) < 0)
		return bx_fail(err, 0, "cannot tell which CPUs the host has (\"%.60s\")", avail);
	for (size_t i = 0; i < BX_CPUSET_MAX / 64; i++)
		if (want[i] & ~have[i]) {
			bx_fail(err, 0, "Requested CPUs are not available - requested %.100s, available: %s", list, avail);
			err->errnum = EINVAL;
			return -1;
		}
	return 0;
}

int bx_cpus_parse(const char *s, int host_cpus, long long *nano, struct bx_err *err)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0) {
		bx_fail(err, 0, "invalid argument \"%.60s\" for \"--cpus\" flag: use a number of CPUs such as 0.5 or 1.5", s);
		err->errnum = EINVAL;
		return -1;
	}
	long long n = (long long)(v * 1e9 + 0.5);
	if (n != 0 && (n < 10000000LL || n > (long long)host_cpus * 1000000000LL)) {
		bx_fail(err, 0, "Range of CPUs is from 0.01 to %d.00, as there are only %d CPUs available", host_cpus,
			host_cpus);
		err->errnum = EINVAL;
		return -1;
	}
	*nano = n;
	return 0;
}
