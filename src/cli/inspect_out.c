/* What every `inspect` command (box, image, volume) prints (inspect_out.h). */
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

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *sorted_copy(json_t *obj)
{
	size_t n = json_object_size(obj), k = 0;
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	json_t *out = json_object();
	if (!keys || !out) {
		free(keys);
		return out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) keys[k++] = key;
	qsort(keys, n, sizeof(*keys), by_key);
	for (size_t i = 0; i < n; i++)
		json_object_set(out, keys[i], json_object_get(obj, keys[i]));
	free(keys);
	return out;
}

void cli_docker_config_defaults(json_t *config, json_t *empty_labels)
{
	if (!json_is_object(config)) {
		json_decref(empty_labels);
		return;
	}
	static const char *const strings[] = {"Domainname", "User", "WorkingDir", "StopSignal"};
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		json_t *v = json_object_get(config, strings[i]);
		if (!v || json_is_null(v))
			json_object_set_new(config, strings[i], json_string(""));
	}
	static const char *const nulls[] = {"Cmd", "Volumes", "Entrypoint", "OnBuild"};
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!json_object_get(config, nulls[i]))
			json_object_set_new(config, nulls[i], json_null());
	json_t *labels = json_object_get(config, "Labels");
	if (json_is_object(labels) && json_object_size(labels))
		json_object_set_new(config, "Labels", sorted_copy(labels));
	else
		json_object_set(config, "Labels", empty_labels);
	json_decref(empty_labels);
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
		cli_docker_config_defaults(json_object_get(o, "Config"), json_null());
	bx_image_free(&img);
	return o;
}
