/* Lifecycle settings: parsers (pure) and reading them back from config.json. */
#include "boxconfig.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../common/paths.h"

void bx_box_config_defaults(struct bx_box_config *c)
{
	memset(c, 0, sizeof(*c));
	c->restart.kind = BX_RESTART_NO;
	c->log.max_file = 1;
	c->stop_signal = SIGTERM;
	c->stop_timeout = 10;
}

static const char *const kind_names[] = {"no", "on-failure", "always", "unless-stopped"};

const char *bx_restart_kind_name(enum bx_restart_kind k)
{
	return (unsigned)k < 4 ? kind_names[k] : "no";
}

int bx_restart_policy_parse(const char *s, struct bx_restart_policy *out, struct bx_err *err)
{
	const char *colon = strchr(s, ':');
	size_t len = colon ? (size_t)(colon - s) : strlen(s);
	for (int k = 0; k < 4; k++) {
		if (strlen(kind_names[k]) != len || strncmp(s, kind_names[k], len))
			continue;
		out->kind = (enum bx_restart_kind)k;
		out->max_retries = 0;
		if (!colon)
			return 0;
		if (k != BX_RESTART_ON_FAILURE)
			return bx_fail(err, 0, "invalid restart policy '%s': only on-failure takes a maximum retry count", s);
		char *end;
		errno = 0;
		long n = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || n < 0 || n > INT_MAX)
			return bx_fail(err, 0, "invalid restart policy '%s': the retry count must be a number >= 0", s);
		out->max_retries = (int)n;
		return 0;
	}
	return bx_fail(err, 0, "invalid restart policy '%s': use no, always, unless-stopped or on-failure[:max-retries]", s);
}

bool bx_restart_should(const struct bx_restart_policy *p, int code, int restart_count, bool manually_stopped)
{
	if (manually_stopped)
		return false;
	switch (p->kind) {
	case BX_RESTART_ALWAYS:
	case BX_RESTART_UNLESS_STOPPED:
		return true;
	case BX_RESTART_ON_FAILURE:
		return code != 0 && (p->max_retries == 0 || restart_count < p->max_retries);
	default:
		return false;
	}
}

bool bx_restart_at_boot(const struct bx_restart_policy *p, bool manually_stopped, bool ever_started)
{
	if (!ever_started)
		return false;
	return p->kind == BX_RESTART_ALWAYS || (p->kind == BX_RESTART_UNLESS_STOPPED && !manually_stopped);
}

long long bx_restart_backoff_ms(int consecutive)
{
	long long ms = 100;
	for (int i = 0; i < consecutive && ms < 60000; i++)
		ms *= 2;
	return ms < 60000 ? ms : 60000;
}

static int parse_size(const char *v, long long *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || end == v || n < 0)
		return -1;
	long long mult = 1;
	switch (tolower((unsigned char)*end)) {
	case '\0': break;
	case 'b': mult = 1; break;
	case 'k': mult = 1LL << 10; break;
	case 'm': mult = 1LL << 20; break;
	case 'g': mult = 1LL << 30; break;
	default: return -1;
	}
	if (*end && end[1] && !(tolower((unsigned char)end[1]) == 'b' && !end[2]))
		return -1;
	if (n > LLONG_MAX / mult)
		return -1;
	*out = n * mult;
	return 0;
}

int bx_log_opt_parse(const char *kv, struct bx_log_opts *o, struct bx_err *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq)
		return bx_fail(err, 0, "invalid --log-opt '%s': use max-size=SIZE or max-file=N", kv);
	const char *v = eq + 1;
	if (!strncmp(kv, "max-size", (size_t)(eq - kv)) && eq - kv == 8) {
		long long n;
		if (parse_size(v, &n) < 0 || n == 0)
			return bx_fail(err, 0, "invalid --log-opt max-size '%s': use a positive size such as 10m", v);
		o->max_size = n;
		return 0;
	}
	if (!strncmp(kv, "max-file", (size_t)(eq - kv)) && eq - kv == 8) {
		char *end;
		long n = strtol(v, &end, 10);
		if (end == v || *end || n < 1 || n > 1000)
			return bx_fail(err, 0, "invalid --log-opt max-file '%s': use a number from 1 to 1000", v);
		o->max_file = (int)n;
		return 0;
	}
	return bx_fail(err, 0, "unknown log opt '%.*s' for the json-file log driver (supported: max-size, max-file)",
		       (int)(eq - kv), kv);
}

static const struct {
	const char *name;
	int sig;
} signals[] = {
	{"HUP", SIGHUP},   {"INT", SIGINT},     {"QUIT", SIGQUIT},   {"ILL", SIGILL},     {"TRAP", SIGTRAP},
	{"ABRT", SIGABRT}, {"IOT", SIGIOT},     {"BUS", SIGBUS},     {"FPE", SIGFPE},     {"KILL", SIGKILL},
	{"USR1", SIGUSR1}, {"SEGV", SIGSEGV},   {"USR2", SIGUSR2},   {"PIPE", SIGPIPE},   {"ALRM", SIGALRM},
	{"TERM", SIGTERM}, {"STKFLT", SIGSTKFLT}, {"CHLD", SIGCHLD}, {"CONT", SIGCONT},   {"STOP", SIGSTOP},
	{"TSTP", SIGTSTP}, {"TTIN", SIGTTIN},   {"TTOU", SIGTTOU},   {"URG", SIGURG},     {"XCPU", SIGXCPU},
	{"XFSZ", SIGXFSZ}, {"VTALRM", SIGVTALRM}, {"PROF", SIGPROF}, {"WINCH", SIGWINCH}, {"IO", SIGIO},
	{"PWR", SIGPWR},   {"SYS", SIGSYS},
};

int bx_signal_parse(const char *s, int *sig, struct bx_err *err)
{
	const char *name = !strncasecmp(s, "SIG", 3) ? s + 3 : s;
	if (isdigit((unsigned char)*s)) {
		char *end;
		long n = strtol(s, &end, 10);
		if (!*end && n >= 1 && n <= 64) {
			*sig = (int)n;
			return 0;
		}
	} else {
		for (size_t i = 0; i < sizeof(signals) / sizeof(signals[0]); i++)
			if (!strcasecmp(name, signals[i].name)) {
				*sig = signals[i].sig;
				return 0;
			}
	}
	return bx_fail(err, 0, "invalid signal '%s': use a name such as SIGTERM or KILL, or a number from 1 to 64", s);
}

const char *bx_signal_name(int sig)
{
	static const char *const full[] = {
		[SIGHUP] = "SIGHUP",   [SIGINT] = "SIGINT",     [SIGQUIT] = "SIGQUIT", [SIGKILL] = "SIGKILL",
		[SIGUSR1] = "SIGUSR1", [SIGUSR2] = "SIGUSR2",   [SIGTERM] = "SIGTERM", [SIGSTOP] = "SIGSTOP",
		[SIGCONT] = "SIGCONT", [SIGWINCH] = "SIGWINCH", [SIGABRT] = "SIGABRT", [SIGPWR] = "SIGPWR",
	};
	return sig > 0 && (size_t)sig < sizeof(full) / sizeof(full[0]) ? full[sig] : NULL;
}

int bx_box_config_read(const char *box_dir, struct bx_box_config *c, struct bx_err *err)
{
	bx_box_config_defaults(c);
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), err, "%s/config.json", box_dir) < 0)
		return -1;
	if (access(path, F_OK) < 0 && errno == ENOENT)
		return 0; /* a box made by an older boxvm: defaults */
	json_error_t je;
	json_t *o = json_load_file(path, 0, &je);
	if (!o)
		return bx_fail(err, 0, "cannot read %s: %s", path, je.text);
	json_t *hc = json_object_get(o, "HostConfig"), *cfg = json_object_get(o, "Config");
	json_t *rp = json_object_get(hc, "RestartPolicy");
	const char *kind = json_string_value(json_object_get(rp, "Name"));
	for (int k = 0; kind && k < 4; k++)
		if (!strcmp(kind, kind_names[k]))
			c->restart.kind = (enum bx_restart_kind)k;
	c->restart.max_retries = (int)json_integer_value(json_object_get(rp, "MaximumRetryCount"));
	json_t *lc = json_object_get(json_object_get(hc, "LogConfig"), "Config");
	const char *ms = json_string_value(json_object_get(lc, "max-size"));
	const char *mf = json_string_value(json_object_get(lc, "max-file"));
	if (ms)
		parse_size(ms, &c->log.max_size);
	if (mf && atoi(mf) >= 1)
		c->log.max_file = atoi(mf);
	const char *ss = json_string_value(json_object_get(cfg, "StopSignal"));
	if (ss)
		bx_signal_parse(ss, &c->stop_signal, NULL);
	json_t *st = json_object_get(cfg, "StopTimeout");
	if (json_is_integer(st) && json_integer_value(st) >= 0)
		c->stop_timeout = (int)json_integer_value(st);
	json_decref(o);
	return 0;
}

int bx_box_anon_volumes(const char *box_dir, char (*names)[BX_VOLUME_NAME_MAX], int cap)
{
	char path[PATH_MAX];
	if (bx_path_join(path, sizeof(path), NULL, "%s/config.json", box_dir) < 0)
		return 0;
	json_t *o = json_load_file(path, 0, NULL);
	json_t *anon = json_object_get(json_object_get(o, "Config"), "Volumes"), *m;
	size_t i;
	int n = 0;
	json_array_foreach(json_object_get(o, "Mounts"), i, m) {
		const char *type = json_string_value(json_object_get(m, "Type"));
		const char *name = json_string_value(json_object_get(m, "Name"));
		const char *dest = json_string_value(json_object_get(m, "Destination"));
		if (n < cap && type && name && dest && !strcmp(type, "volume") && json_object_get(anon, dest) &&
		    strlen(name) < BX_VOLUME_NAME_MAX)
			snprintf(names[n++], BX_VOLUME_NAME_MAX, "%s", name);
	}
	json_decref(o);
	return n;
}
