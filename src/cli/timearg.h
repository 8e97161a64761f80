/* --since/--until values, as Docker's client reads them (logs, events). */
#ifndef BOXVM_CLI_TIMEARG_H
#define BOXVM_CLI_TIMEARG_H

#include "../common/err.h"

/* "42m", "1h30m", "10s" ago -> unix ns (a leading '-' is ahead); unix
 * seconds[.frac]; RFC 3339; Docker's local-time dates ("2006-01-02",
 * "2006-01-02T15:04:05[.frac]"). flag names the option in the error. */
int cli_parse_time(const char *flag, const char *s, long long *out, struct bx_err *err);

#endif
