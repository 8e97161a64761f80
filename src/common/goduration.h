/* Go's time.Duration as Docker's flags and messages use it: parsing
 * ("1m30s", "500ms", "1.5h", "-2s") and printing ("1m0s", "1.5s"). Pure. */
#ifndef BOXVM_GODURATION_H
#define BOXVM_GODURATION_H

#include <stddef.h>

struct bx_err;
/* time.ParseDuration: 0 and *ns, or -1 when s is not a duration (or
 * overflows int64 nanoseconds) with Go's message in err (may be NULL):
 * `time: invalid duration "X"`, `time: missing unit in duration "5"`,
 * `time: unknown unit "x" in duration "5x"`. */
int bx_goduration_parse(const char *s, long long *ns, struct bx_err *err);
/* Duration.String into out: "0s", "1.5s", "2m0s", "1h0m0s", "500ms", "-3s". */
void bx_goduration_format(long long ns, char *out, size_t size);

#endif
