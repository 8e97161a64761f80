/* The guest's numbers for `boxvm stats`, parsed from /proc text. Pure: the
 * agent reads the files (bounded reads, no process spawned) and hands the
 * text over, so all of this is tested on the host. */
#ifndef BOXVM_AGENT_PROCSTATS_H
#define BOXVM_AGENT_PROCSTATS_H

#include <stdbool.h>
#include <stdint.h>

/* /proc/meminfo -> bytes. MemAvailable missing (kernels before 3.14):
 * MemFree + Buffers + Cached. Returns -1 without MemTotal. */
int bx_meminfo_parse(const char *text, uint64_t *total, uint64_t *available);

/* /proc/net/dev: receive and transmit bytes summed over every interface
 * but loopback ("lo"). */
void bx_netdev_parse(const char *text, uint64_t *rx, uint64_t *tx);

/* /proc/diskstats: bytes read and written (sectors of 512 bytes) over whole
 * disks. Partitions (a name that is another listed device's name plus
 * digits, or plus "p" and digits: sda1, nvme0n1p2) would count their disk's
 * I/O twice, and loop/ram devices are memory or files already counted
 * elsewhere: all skipped. */
void bx_diskstats_parse(const char *text, uint64_t *read_bytes, uint64_t *write_bytes);

/* /proc/stat: the guest's non-idle CPU time (user, nice, system, irq,
 * softirq, steal of the "cpu" line) in ns, given the USER_HZ tick rate.
 * Returns -1 without a "cpu" line. */
int bx_stat_cpu_parse(const char *text, long ticks_per_s, uint64_t *busy_ns);

/* /proc/PID/stat: the parent pid (field 4) and thread count (field 20).
 * comm (field 2) may hold spaces and parentheses. Returns -1 if malformed. */
int bx_pidstat_parse(const char *text, long *ppid, long *threads);

/* /proc/interrupts: the local APIC timer's interrupts ("LOC:") summed over
 * every CPU. Returns -1 without a LOC line (no local APIC: not x86). */
int bx_interrupts_local_timer(const char *text, uint64_t *count);

/* A /proc entry that is a process: all decimal digits. */
bool bx_proc_is_pid_name(const char *name);

#endif
