/* What every `inspect` command (box, image, volume) prints (inspect_out.h). */
#include "../box/box_view.h"
#include "inspect_out.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../image/image.h"
#include "../image/image_inspect.h"
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

json_t *cli_image_inspect_json(const struct bx_paths *p, const char *ref, struct bx_err *err)
{
	struct bx_image img = {0};
	void *o = NULL;
	if (bx_image_lookup(p, ref, &img, err) == 0 && bx_image_inspect_json(p, &img, &o, err) == 0)
		bx_docker_config_defaults(json_object_get(o, "Config"), json_null());
	bx_image_free(&img);
	return o;
}
