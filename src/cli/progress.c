/* Docker's progress text (progress.h): what `docker pull` and `docker push`
 * draw on a terminal, from jsonmessage's JSONProgress. */
#include "progress.h"

#include <stdio.h>
#include <string.h>

void cli_progress_size(long long b, char *out, size_t size)
{
	if (b < 0)
		snprintf(out, size, "?");
	else if (b < 1000)
		snprintf(out, size, "%lldB", b);
	else if (b < 1000000)
		snprintf(out, size, "%.1fkB", b / 1e3);
	else if (b < 1000000000)
		snprintf(out, size, "%.1fMB", b / 1e6);
	else
		snprintf(out, size, "%.2fGB", b / 1e9);
}

void cli_progress_bar(long long done, long long total, char *out, size_t size)
{
	char d[32], t[32];
	cli_progress_size(done, d, sizeof(d));
	if (total <= 0) {
		snprintf(out, size, "%8s", d);
		return;
	}
	cli_progress_size(total, t, sizeof(t));
	/* 50 columns, one per 2%, the head '>' after them as Docker draws it */
	int filled = done >= total ? 50 : done <= 0 ? 0 : (int)(done * 100 / total) / 2;
	char bar[53];
	memset(bar + 1, '=', (size_t)filled);
	bar[0] = '[';
	bar[filled + 1] = '>';
	memset(bar + filled + 2, ' ', (size_t)(50 - filled));
	bar[52] = '\0';
	snprintf(out, size, "%s] %8s/%s", bar, d, t);
}
