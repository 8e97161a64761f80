/* Docker's progress text for pull and push (its jsonmessage rendering):
 * byte counts and the 50-column bar. Pure. */
#ifndef BOXVM_CLI_PROGRESS_H
#define BOXVM_CLI_PROGRESS_H

#include <stddef.h>

/* "512B", "1.5kB", "2.3MB", "1.20GB"; "?" for a negative (unknown) count */
void cli_progress_size(long long bytes, char *out, size_t size);
/* "[=====>      ]  1.5MB/3.0MB": done of total; only the counts when the
 * total is unknown (<= 0) */
void cli_progress_bar(long long done, long long total, char *out, size_t size);

#endif
