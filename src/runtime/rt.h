/* boxvm-runtime: a runc-compatible OCI runtime whose containers are boxvm
 * microVMs (docs/oci-runtime.md). Shared declarations of src/runtime/.
 *
 * Processes:
 *   caller (containerd-shim, conmon) ──▶ boxvm-runtime create ──fork──▶ monitor
 *   The monitor is the pid written to --pid-file: it keeps the stdio the
 *   caller handed over, waits for `start` on its control socket, then starts
 *   the box's boxvm-shim (which boots the VM) and attaches those fds to the
 *   main process; it exits with the main process's exit code. After create
 *   exits the monitor is re-parented to the caller (a subreaper).
 *
 * On disk:
 *   ROOT/ID/state.json   the container record (atomic)
 *   ROOT/ID/started      present once `start` succeeded
 *   ROOT/ID/stopped      present once a container that never started is ended
 *   ROOT/ID/box/         the box directory (vm.json, initrd.img, logs, exit_code)
 *   RUN/rt-KEY.sock      the monitor's control socket (KEY: a hash of ROOT+ID,
 *                        short because socket paths are limited to 108 bytes)
 *   RUN/rt-KEY/          the shim's runtime directory (attach.sock, exec.sock;
 *                        RUN/rt-KEY/paused while the shim keeps the VM frozen) */
#ifndef BOXVM_RUNTIME_RT_H
#define BOXVM_RUNTIME_RT_H

#include <limits.h>
#include <stddef.h>
#include <stdbool.h>

#include "../common/err.h"
#include "../common/paths.h"

#define RT_DEFAULT_ROOT "/run/boxvm-runtime"

struct rt_globals {
	const char *root;
	const char *log_path; /* NULL: stderr only */
	bool log_json;
	bool debug;
};

/* log.c: errors in runc's style (stderr, and the --log file, JSON if asked). */
void rt_log_init(const struct rt_globals *g);
void rt_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void rt_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* opts.c: a subcommand's flags ("--name v", "--name=v", "-name v", short
 * aliases); the remaining words are positional. */
struct rt_opt {
	const char *name;  /* long name */
	char shortname;    /* 0: none */
	bool has_value;
	const char *value; /* filled: the value, or "" for a present boolean */
};
/* Returns the number of positional words moved to pos[] (in order), or -1 after rt_error. */
int rt_opts_parse(const char *cmd, int argc, char **argv, struct rt_opt *opts, size_t nopts, char **pos, int maxpos);
const char *rt_opt_get(const struct rt_opt *opts, size_t nopts, const char *name);

/* container.c: the container record and its status */
struct rt_container {
	char id[256];
	char dir[PATH_MAX];       /* ROOT/ID */
	char bundle[PATH_MAX];
	char rootfs[PATH_MAX];
	char created[64];         /* RFC 3339 */
	int pid;                  /* the monitor */
	unsigned long long pid_start;
	char ctl_sock[PATH_MAX];  /* the monitor's control socket */
	char run_dir[PATH_MAX];   /* the shim's */
	char box_dir[PATH_MAX];
	char *annotations_json;   /* "{...}" (malloc'd) */
	char *hooks_json;         /* config.json's hooks (malloc'd); NULL: none */
};
enum rt_status { RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };
int rt_id_valid(const char *id, struct bx_err *err);
/* Paths of a container that may not exist yet. */
int rt_container_paths(const struct rt_globals *g, const struct bx_paths *p, const char *id, struct rt_container *c,
		       struct bx_err *err);
int rt_container_write(const struct rt_container *c, struct bx_err *err);
/* Load ROOT/ID/state.json; a missing one: "container \"ID\" does not exist". */
int rt_container_load(const struct rt_globals *g, const char *id, struct rt_container *c, struct bx_err *err);
void rt_container_free(struct rt_container *c);
enum rt_status rt_container_status(const struct rt_container *c);
const char *rt_status_name(enum rt_status s);
/* Wait (up to timeout_ms) for the monitor to exit; true if it is gone. */
bool rt_wait_gone(int pid, unsigned long long start, int timeout_ms);
/* Make sure nothing of the box runs any more (monitor, shim), remove the
 * record, then run the poststop hooks (a failing one is an error message,
 * as runc's, and the container is gone all the same). */
int rt_container_destroy(struct rt_container *c, struct bx_err *err);

/* hooks.c: the container's hooks of one kind ("prestart", "createRuntime",
 * "createContainer", "poststart", "poststop"), run on the host in order with
 * the runtime-spec state (status as given; pid unless "stopped") on stdin.
 * The first that fails (exit status, signal, timeout, exec) stops the rest
 * and fills err with runc's words. */
int rt_hooks_run(const struct rt_container *c, const char *kind, const char *status, struct bx_err *err);

/* ctl.c: one request to the monitor ("start", "kill N", "pause", "resume");
 * reply "ok" or an error. */
int rt_ctl_request(const struct rt_container *c, const char *req, struct bx_err *err);

/* console.c: a pty pair; the master goes to the caller over console_socket
 * (SCM_RIGHTS, as runc does). Returns the slave fd (raw mode), or -1. */
int rt_console_make(const char *console_socket, struct bx_err *err);
/* Apply process.consoleSize (of a config.json, or of a process object) to the pty. */
void rt_console_size(int slave, const char *json_text, bool whole_config);
/* Make fd our controlling terminal and stdio (after setsid). */
int rt_console_adopt(int slave, struct bx_err *err);

/* fds.c: close every descriptor above 2 but those in keep[] (forked helpers). */
void rt_close_inherited(const int *keep, size_t nkeep);

/* monitor.c */
struct bx_vmspec;
struct rt_monitor_args {
	const struct rt_container *c;
	const struct bx_vmspec *vm;
	const struct bx_paths *paths; /* boxvm's data (its warm pool) */
	int listen_fd;           /* the control socket, listening */
	int tty_slave;           /* -1: no terminal; else becomes the controlling tty and stdio */
	const char *netns_path;  /* NULL: stay in the caller's network namespace */
	const char *uts_name;    /* non-NULL: a UTS namespace of the monitor's own, named so */
	int sync_fd;             /* "ok\n" or "error: ...\n" once set up (then closed) */
};
/* Runs in the forked monitor; never returns. */
void rt_monitor_run(const struct rt_monitor_args *a) __attribute__((noreturn));

/* commands (one file each where they are more than a few lines) */
int rt_cmd_create(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_start(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_state(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_kill(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_delete(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_exec(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_ps(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_list(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_features(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_pause(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_resume(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_run(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_spec(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_events(const struct rt_globals *g, int argc, char **argv);
/* update.c */
int rt_cmd_update(const struct rt_globals *g, int argc, char **argv);
int rt_cmd_unsupported(const struct rt_globals *g, int argc, char **argv);

#endif
