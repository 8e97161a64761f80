/* Wall-clock time (CLOCK_REALTIME) in unix nanoseconds: the state record's
 * and the log's timestamps, the host's TIME for the guest. */
#ifndef BOXVM_REALTIME_H
#define BOXVM_REALTIME_H

long long bx_real_ns(void);

#endif
