/* --format templates and listing tables against Docker 20.10's answers: every
 * expected string below is what the reference Docker printed for the same
 * data (docker inspect -f / ps --format / images), not what boxvm prints. The
 * CLI's table and inspect helpers are compiled in (the CLI is not a library). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "box/box_view.h"
#include "cli/inspect_out.h"
#include "cli/table.h"
#include "cli/template.h"

/* the data of `docker create -l b=2 -l a=1 busybox echo hi there`, as boxvm keeps it */
static json_t *box(void)
{
	json_t *o = json_loads("{\"Name\":\"/pa4\",\"State\":{\"Pid\":0,\"Running\":false,\"Status\":\"created\"},"
			       "\"Config\":{\"Cmd\":[\"echo\",\"hi\",\"there\"],\"Labels\":{\"b\":\"2\",\"a\":\"1\"},"
			       "\"User\":null,\"Env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"]},"
			       "\"HostConfig\":{\"Memory\":0},\"Mounts\":[]}",
			       0, NULL);
	assert_non_null(o);
	bx_docker_config_defaults(json_object_get(o, "Config"), json_object());
	return o;
}

static void expect(json_t *o, const char *fmt, const char *docker_says)
{
	struct bx_err err;
	char *out = NULL;
	assert_int_equal(bx_template_render(fmt, o, &out, &err), 0);
	if (strcmp(out, docker_says))
		fail_msg("%s: got '%s', Docker prints '%s'", fmt, out, docker_says);
	free(out);
}

static void test_go_values(void **state)
{
	json_t *o = box();
	expect(o, "{{.Config.Cmd}}", "[echo hi there]");
	expect(o, "{{.Config.Labels}}", "map[a:1 b:2]");
	expect(o, "{{json .Config.Labels}}", "{\"a\":\"1\",\"b\":\"2\"}");
	expect(o, "{{.Config.Entrypoint}}", "[]");
	expect(o, "{{json .Config.Entrypoint}}", "null");
	expect(o, "{{json .Config.Cmd}}", "[\"echo\",\"hi\",\"there\"]");
	expect(o, "{{.Config.Volumes}}", "map[]");
	expect(o, "{{.Config.User}}", "");
	expect(o, "{{.Config.Env}}", "[PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin]");
	expect(o, "{{.State.Pid}}", "0");
	expect(o, "{{.State.Running}}", "false");
	expect(o, "{{.HostConfig.Memory}}", "0");
	expect(o, "{{.Mounts}}", "[]");
	expect(o, "{{json .Mounts}}", "[]");
	expect(o, "{{.Config.Labels.a}}", "1");
	expect(o, "{{.Config.Labels.zz}}", "<no value>");
	expect(o, "{{index .Config.Labels \"b\"}}", "2");
	expect(o, "{{.Name}}", "/pa4");
	expect(o, "{{.Config.Cmd}} x {{.Config.Labels}}", "[echo hi there] x map[a:1 b:2]");
	expect(o, "{{join .Config.Cmd \",\"}}", "echo,hi,there");
	json_decref(o);
	/* an image's null Labels (`docker image inspect -f '{{.Config.Labels}}' busybox`) */
	json_t *img = json_loads("{\"Config\":{\"Cmd\":[\"sh\"]},\"RepoTags\":[\"busybox:latest\"],\"Os\":\"linux\"}", 0, NULL);
	bx_docker_config_defaults(json_object_get(img, "Config"), json_null());
	expect(img, "{{.Config.Cmd}} {{.Config.Entrypoint}} {{.Config.Labels}} {{.Os}} {{.RepoTags}}",
	       "[sh] [] map[] linux [busybox:latest]");
	json_decref(img);
	/* a volume (`docker volume inspect -f`) */
	json_t *vol = json_loads("{\"Name\":\"pa-v\",\"Driver\":\"local\",\"Labels\":{},\"Options\":{},\"Scope\":\"local\"}", 0,
				 NULL);
	expect(vol, "{{.Name}} {{.Driver}} {{.Labels}} {{.Options}} {{.Scope}}", "pa-v local map[] map[] local");
	json_decref(vol);
}

/* events: the object has Docker's JSON names ("time", "status", "id"), and
 * the template Go's field names; what `docker events --format` printed for
 * the same event */
static void test_events_fields(void **state)
{
	json_t *o = json_loads("{\"status\":\"create\",\"id\":\"fa2e\",\"from\":\"busybox\",\"Type\":\"container\","
			       "\"Action\":\"create\",\"Actor\":{\"ID\":\"fa2e\",\"Attributes\":{\"a\":\"b\",\"c\":\"d\","
			       "\"image\":\"busybox\",\"name\":\"evx1\"}},\"scope\":\"local\",\"time\":1796037372,"
			       "\"timeNano\":1796037372023073794}",
			       JSON_PRESERVE_ORDER, NULL);
	assert_non_null(o);
	struct bx_err err;
	char *out = NULL;
	assert_int_equal(bx_template_render_fold("{{.Status}}|{{.ID}}|{{.From}}|{{.Time}}|{{.TimeNano}}|{{.Type}}|{{.Action}}|"
						 "{{.Actor.ID}}|{{.Actor.Attributes.name}}|{{.Scope}}|{{index .Actor.Attributes \"a\"}}|"
						 "{{json .Actor.Attributes}}",
						 o, &out, &err),
			 0);
	assert_string_equal(out, "create|fa2e|busybox|1796037372|1796037372023073794|container|create|fa2e|evx1|local|b|"
				 "{\"a\":\"b\",\"c\":\"d\",\"image\":\"busybox\",\"name\":\"evx1\"}");
	free(out);
	/* a field the JSON left out (empty in Go's struct) prints empty */
	assert_int_equal(bx_template_render_fold("[{{.Nothing}}]", o, &out, &err), 0);
	assert_string_equal(out, "[]");
	free(out);
	/* without folding, a field is found only by its exact name */
	assert_int_equal(bx_template_render("{{.Time}}", o, &out, &err), 0);
	assert_string_equal(out, "<no value>");
	free(out);
	json_decref(o);
}

static void test_ps_label_method(void **state)
{
	/* `docker ps --format '{{.Label "a"}}|{{.Labels}}|{{.Names}}|{{.Label "zz"}}'` */
	json_t *row = json_loads("{\"Names\":\"pa4\",\"Labels\":\"a=1,b=2\",\"Label\":{\"a\":\"1\",\"b\":\"2\"}}", 0, NULL);
	expect(row, "{{.Label \"a\"}}|{{.Labels}}|{{.Names}}|{{.Label \"zz\"}}", "1|a=1,b=2|pa4|");
	json_decref(row);
}

static void test_parse_errors(void **state)
{
	struct bx_err err = {0};
	assert_int_equal(bx_template_check("{{.ID", &err), -1);
	assert_int_equal(cli_inspect_format_check("{{.ID", &err), -1);
	assert_int_equal(err.exit_code, CLI_EXIT_BAD_TEMPLATE); /* Docker's inspect: exit 64 */
	assert_int_equal(cli_inspect_format_check(NULL, &err), 0);
	assert_int_equal(bx_template_check("{{index .Config.Labels}}", &err), -1);
	assert_int_equal(bx_template_check("{{.Label \"a\" \"b\"}}", &err), -1);
	assert_int_equal(bx_template_check("{{.Label \"a}}", &err), -1);
	assert_int_equal(bx_template_check("{{json .X \"a\"}}", &err), -1);
	assert_int_equal(bx_template_check("{{range .X}}", &err), -1);
	assert_int_equal(bx_template_check("{{.Label \"a\\\"b\"}} {{index .M \"k\"}}", &err), 0);
}

static char *table_text(struct cli_table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	struct bx_err err;
	assert_int_equal(cli_table_flush(t, f, &err), 0);
	fclose(f);
	return buf;
}

static void test_docker_tables(void **state)
{
	/* `docker ps -a` with two created containers, and with none */
	static const char *const header[] = {"CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"};
	static const char *const row1[] = {"c0c3792d54d7", "busybox", "\"sh\"", "47 seconds ago", "Created", "", "pa5"};
	static const char *const row2[] = {"2aa4ce2b039f", "busybox", "\"echo hi there\"", "About a minute ago",
					   "Created",      "",        "pa4"};
	struct cli_table t;
	cli_table_init(&t, 7);
	cli_table_add(&t, header);
	cli_table_add(&t, row1);
	cli_table_add(&t, row2);
	char *out = table_text(&t);
	assert_string_equal(out,
			    "CONTAINER ID   IMAGE     COMMAND           CREATED              STATUS    PORTS     NAMES\n"
			    "c0c3792d54d7   busybox   \"sh\"              47 seconds ago       Created             pa5\n"
			    "2aa4ce2b039f   busybox   \"echo hi there\"   About a minute ago   Created             pa4\n");
	free(out);
	cli_table_init(&t, 7);
	cli_table_add(&t, header);
	out = table_text(&t);
	assert_string_equal(out, "CONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n");
	free(out);
	/* `docker images`; a multi-byte character counts once, as in Go's tabwriter */
	static const char *const ih[] = {"REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"};
	static const char *const ir[] = {"busybox", "latest", "c6fe9486f886", "2 years ago", "1.98MB"};
	static const char *const wide[] = {"b\xc3\xa9", "t", "i", "c", "s"};
	cli_table_init(&t, 5);
	cli_table_add(&t, ih);
	cli_table_add(&t, ir);
	out = table_text(&t);
	assert_string_equal(out, "REPOSITORY   TAG       IMAGE ID       CREATED       SIZE\n"
				 "busybox      latest    c6fe9486f886   2 years ago   1.98MB\n");
	free(out);
	cli_table_init(&t, 5);
	cli_table_add(&t, wide);
	out = table_text(&t);
	assert_string_equal(out, "b\xc3\xa9        t         i         c         s\n");
	free(out);
}

static void test_table_format(void **state)
{
	const char *tmpl;
	assert_true(cli_table_format("table", &tmpl));
	assert_null(tmpl);
	assert_true(cli_table_format("table {{.Names}}\\t{{.Status}}", &tmpl));
	assert_string_equal(tmpl, "{{.Names}}\\t{{.Status}}");
	assert_false(cli_table_format("tables", &tmpl));
	assert_false(cli_table_format("{{.Names}}", &tmpl));
	assert_false(cli_table_format(NULL, &tmpl));
	/* `docker images --format 'table {{.Repository}}\t{{.ID}}'` */
	json_t *titles = json_pack("{s:s,s:s}", "Repository", "REPOSITORY", "ID", "IMAGE ID");
	json_t *row = json_pack("{s:s,s:s}", "Repository", "busybox", "ID", "c6fe9486f886");
	struct cli_table t;
	cli_table_start(&t, "{{.Repository}}\\t{{.ID}}", titles);
	cli_table_add_rendered(&t, "{{.Repository}}\\t{{.ID}}", row);
	char *out = table_text(&t);
	assert_string_equal(out, "REPOSITORY   IMAGE ID\nbusybox      c6fe9486f886\n");
	free(out);
	json_decref(titles);
	json_decref(row);
}

/* A row that cannot be added fails the whole listing at flush, which prints
 * nothing and says why (the one error convention; no exit from a helper). */
static void test_table_failure_reported_at_flush(void **state)
{
	struct cli_table t;
	json_t *row = json_pack("{s:s}", "ID", "abc");
	cli_table_init(&t, 2);
	cli_table_add_line(&t, "A\tB");
	cli_table_add_rendered(&t, "{{.Label \"a}}", row);
	cli_table_add_line(&t, "c\td");
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct bx_err err = {0};
	assert_int_equal(cli_table_flush(&t, f, &err), -1);
	fclose(f);
	assert_string_equal(buf, "");
	assert_true(err.msg[0] != '\0');
	assert_null(t.cells);
	free(buf);
	json_decref(row);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_go_values),
		cmocka_unit_test(test_ps_label_method),
		cmocka_unit_test(test_events_fields),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_docker_tables),
		cmocka_unit_test(test_table_format),
		cmocka_unit_test(test_table_failure_reported_at_flush),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
