/* Fault injection for the crash-consistency tests (issue 11): with
 * BOXVM_TEST_CRASH_AT=<point> in its environment, a boxvm process (CLI,
 * shim) kills itself with SIGKILL when it reaches the named point, as a
 * power cut or an OOM kill would, with no chance to clean up. The points
 * and what the next command finds after each are listed in
 * docs/ARCHITECTURE.md ("Crash consistency"); tests/integration/test_crash.py
 * goes through every one. */
#ifndef BOXVM_CRASHPOINT_H
#define BOXVM_CRASHPOINT_H

void bx_crash_point(const char *name);

#endif
