/* Docker's resource limits of a box, as the guest's cgroup limits (resources.h). */
#include "resources.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bx_resources_bytes(const char *s, int64_t *out)
{
	if (!s || !isdigit((unsigned char)*s))
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	int shift = 0;
	switch (tolower((unsigned char)*end)) {
	case 'k': shift = 10; break;
	case 'm': shift = 20; break;
	case 'g': shift = 30; break;
	case 't': shift = 40; break;
	}
	if (shift)
		end++;
	if (shift && tolower((unsigned char)*end) == 'i')
		end++;
	if (tolower((unsigned char)*end) == 'b')
		end++;
	if (*end || v > (unsigned long long)INT64_MAX >> shift)
		return -1;
	*out = (int64_t)(v << shift);
	return 0;
}

/* Go's strconv.ParseInt, as Docker's flag parsing words it */
static int parse_int(const char *flag, const char *value, int64_t *out, struct bx_err *err)
{
	char *end;
	errno = 0;
	long long v = strtoll(value, &end, 10);
	if (end == value || *end || errno)
		return bx_fail(err, 0, "invalid argument \"%s\" for \"--%s\" flag: strconv.ParseInt: parsing \"%s\": %s",
			       value, flag, value, errno == ERANGE ? "value out of range" : "invalid syntax");
	*out = v;
	return 0;
}

/* A cpuset list ("0-2,5"): the highest CPU named, or -1 when malformed. */
static int cpuset_highest(const char *list)
{
	int highest = -1;
	const char *p = list;
	if (!*p)
		return -1;
	for (;;) {
		char *end;
		if (!isdigit((unsigned char)*p))
			return -1;
		long a = strtol(p, &end, 10), b = a;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				return -1;
			b = strtol(p + 1, &end, 10);
			p = end;
		}
		if (a > b || b > 4095)
			return -1;
		if (b > highest)
			highest = (int)b;
		if (!*p)
			return highest;
		if (*p++ != ',')
			return -1;
	}
}

int bx_resources_flag(struct bx_resources *r, const char *flag, const char *value, struct bx_err *err)
{
	if (!strcmp(flag, "memory") || !strcmp(flag, "memory-reservation")) {
		int64_t *field = !strcmp(flag, "memory") ? &r->memory : &r->memory_reservation;
		if (bx_resources_bytes(value, field) < 0)
			return bx_fail(err, 0, "invalid --%s '%s': use a number with an optional unit b, k, m or g", flag,
				       value);
		return 0;
	}
	if (!strcmp(flag, "memory-swap")) {
		if (!strcmp(value, "-1")) {
			r->memory_swap = -1;
			return 0;
		}
		if (bx_resources_bytes(value, &r->memory_swap) < 0)
			return bx_fail(err, 0, "invalid --memory-swap '%s': use a number with an optional unit b, k, m or g, "
					       "or -1", value);
		return 0;
	}
	if (!strcmp(flag, "pids-limit"))
		return parse_int(flag, value, &r->pids_limit, err);
	if (!strcmp(flag, "cpu-shares"))
		return parse_int(flag, value, &r->cpu_shares, err);
	if (!strcmp(flag, "cpuset-cpus")) {
		if (strlen(value) >= sizeof(r->cpuset_cpus) || (*value && cpuset_highest(value) < 0))
			return bx_fail(err, 0, "Invalid value %s for cpuset cpus: invalid format: %s", value, value);
		snprintf(r->cpuset_cpus, sizeof(r->cpuset_cpus), "%s", value);
		return 0;
	}
	return bx_fail(err, 0, "unknown resource flag --%s", flag);
}

int bx_resources_check(const struct bx_resources *r, int vcpus, struct bx_err *err)
{
	/* Docker's daemon's checks and words (verifyPlatformContainerResources) */
	if (r->memory < 0 || r->memory_reservation < 0 || r->memory_swap < -1)
		return bx_fail(err, 0, "invalid memory size: use a positive size");
	if (r->memory && r->memory < BX_RES_MEMORY_MIN)
		return bx_fail(err, 0, "Minimum memory limit allowed is 6MB");
	if (r->memory > BX_RES_MEMORY_MAX)
		return bx_fail(err, 0, "invalid --memory %lld: at most 1 TiB", (long long)r->memory);
	if (r->memory_swap && !r->memory)
		return bx_fail(err, 0, "You should always set the Memory limit when using Memoryswap limit, see usage");
	if (r->memory_swap > 0 && r->memory_swap < r->memory)
		return bx_fail(err, 0, "Minimum memoryswap limit should be larger than memory limit, see usage");
	if (r->memory_swap > r->memory)
		return bx_fail(err, 0, "--memory-swap %lld: a box's VM has no swap: give --memory-swap the --memory value "
				       "or -1", (long long)r->memory_swap);
	if (r->memory_reservation && r->memory_reservation < BX_RES_MEMORY_MIN)
		return bx_fail(err, 0, "Minimum memory reservation allowed is 6MB");
	if (r->memory && r->memory_reservation > r->memory)
		return bx_fail(err, 0, "Minimum memory limit can not be less than memory reservation limit, see usage");
	if (r->cpuset_cpus[0]) {
		int highest = cpuset_highest(r->cpuset_cpus);
		if (highest < 0)
			return bx_fail(err, 0, "Invalid value %s for cpuset cpus: invalid format: %s", r->cpuset_cpus,
				       r->cpuset_cpus);
		if (highest >= vcpus) {
			if (vcpus > 1)
				return bx_fail(err, 0, "Requested CPUs are not available - requested %s, available: 0-%d",
					       r->cpuset_cpus, vcpus - 1);
			return bx_fail(err, 0, "Requested CPUs are not available - requested %s, available: 0",
				       r->cpuset_cpus);
		}
	}
	return 0;
}

int bx_resources_vm_mb(const struct bx_resources *r)
{
	if (!r->memory)
		return 0;
	return (int)((r->memory + (1LL << 20) - 1) >> 20) + BX_RES_VM_OVERHEAD_MB;
}

uint64_t bx_cpu_shares_weight(int64_t shares)
{
	if (!shares)
		return 0;
	if (shares < 2) /* the kernel's range for cpu.shares (runc passes it on as such) */
		shares = 2;
	if (shares > 262144)
		shares = 262144;
	return 1 + ((uint64_t)(shares - 2) * 9999) / 262142;
}

int bx_resources_apply(const struct bx_resources *r, struct bx_spec *spec, struct bx_err *err)
{
	char kv[192];
	if (r->pids_limit > 0) {
		snprintf(kv, sizeof(kv), "pids.max=%lld", (long long)r->pids_limit);
		if (bx_spec_add_cgroup(spec, kv, err) < 0)
			return -1;
	}
	if (r->memory) {
		snprintf(kv, sizeof(kv), "memory.max=%lld", (long long)r->memory);
		if (bx_spec_add_cgroup(spec, kv, err) < 0)
			return -1;
	}
	if (r->memory_reservation) {
		snprintf(kv, sizeof(kv), "memory.low=%lld", (long long)r->memory_reservation);
		if (bx_spec_add_cgroup(spec, kv, err) < 0)
			return -1;
	}
	if (r->cpu_shares) {
		snprintf(kv, sizeof(kv), "cpu.weight=%llu", (unsigned long long)bx_cpu_shares_weight(r->cpu_shares));
		if (bx_spec_add_cgroup(spec, kv, err) < 0)
			return -1;
	}
	if (r->cpuset_cpus[0]) {
		snprintf(kv, sizeof(kv), "cpuset.cpus=%s", r->cpuset_cpus);
		if (bx_spec_add_cgroup(spec, kv, err) < 0)
			return -1;
	}
	return 0;
}

json_t *bx_resources_host_config(const struct bx_resources *r)
{
	int64_t swap = r->memory_swap;
	if (r->memory && !swap)
		swap = r->memory * 2; /* Docker's default: as much swap as memory */
	return json_pack("{s:I,s:I,s:I,s:o,s:I,s:s}", "Memory", (json_int_t)r->memory, "MemoryReservation",
			 (json_int_t)r->memory_reservation, "MemorySwap", (json_int_t)swap, "PidsLimit",
			 r->pids_limit > 0 ? json_integer(r->pids_limit) : json_null(), "CpuShares",
			 (json_int_t)r->cpu_shares, "CpusetCpus", r->cpuset_cpus);
}
