/* What every `inspect` command (box, image, volume) prints (inspect_out.h). */
#include "inspect_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "template.h"

int cli_inspect_format_check(const char *format, struct bx_err *err)
{
	if (!format || bx_template_check(format, err) == 0)
		return 0;
	err->exit_code = CLI_EXIT_BAD_TEMPLATE;
	return -1;
}

void cli_inspect_print(json_t *all, const char *format)
{
	if (!format) {
		char *t = json_dumps(all, JSON_INDENT(4) | JSON_PRESERVE_ORDER);
		printf("%s\n", t ? t : "[]");
		free(t);
		return;
	}
	size_t i;
	json_t *o;
	json_array_foreach(all, i, o) {
		char *t = NULL;
		if (bx_template_render(format, o, &t, NULL) == 0)
			printf("%s\n", t);
		free(t);
	}
}
