/* Signalling processes and waiting for them to be gone, by pidfd: a pid
 * read from a file is pinned once opened, so a recycled pid is not hit. */
#pragma once

/* Sends sig to each of pids[0..n) (a pid already gone is skipped) and waits
 * until every one has exited, up to guard_ms each (a hang guard only). */
void bx_signal_and_wait(const int *pids, int n, int sig, int guard_ms);
