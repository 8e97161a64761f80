/* The two clocks: wall-clock time (CLOCK_REALTIME) in unix nanoseconds for
 * the state record's and the log's timestamps and the host's TIME for the
 * guest; monotonic time (CLOCK_MONOTONIC) for deadlines and intervals. */
#ifndef BOXVM_CLOCK_H
#define BOXVM_CLOCK_H

long long bx_real_ns(void);
long long bx_mono_ns(void);
long long bx_mono_ms(void);

#endif
