/* The two clocks (clock.h). */
#include "clock.h"

#include <time.h>

static long long ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

long long bx_real_ns(void)
{
	return ns_of(CLOCK_REALTIME);
}

long long bx_mono_ns(void)
{
	return ns_of(CLOCK_MONOTONIC);
}

long long bx_mono_ms(void)
{
	return bx_mono_ns() / 1000000;
}
