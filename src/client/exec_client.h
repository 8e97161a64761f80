/* Running a process in a running box through its shim's RUN/exec.sock (see
 * src/shim/README.md): the exec (4089) or pty (4090) service of the agent. */
#ifndef BOXVM_CLI_EXEC_CLIENT_H
#define BOXVM_CLI_EXEC_CLIENT_H

#include "../common/err.h"
#include "../proto/spec.h"
#include "../store/state.h"
#include "relay.h"

/* Resolve a box reference (name, ID, ID prefix) to a running box whose guest
 * can answer: a paused one is refused ("box X is paused, unpause it before
 * VERB"), as its frozen guest would leave the command hanging. */
int bx_cli_running_box(const char *ref, const char *verb, struct bx_box_record *rec, struct bx_err *err);

/* Connect to the box's exec socket and send the request (spec->tty picks the
 * pty service). Returns the connected socket, or -1 with err. */
int bx_exec_connect(const struct bx_box_record *box, const struct bx_spec *spec, struct bx_err *err);

/* exec -d: start the process as a detached session (the shim keeps it when we
 * leave; its output is discarded) and return once the agent says it started:
 * 0, or -1 with err, or the code of a refused start (126, 127) with err. */
int bx_exec_start_detached(const struct bx_box_record *box, const struct bx_spec *spec, struct bx_err *err);

/* Connect, then relay until the process exits: returns its exit code, or -1.
 * The user's exec: the shim logs its events (exec_create, exec_start,
 * exec_die), as bx_exec_connect's and bx_exec_start_detached's. */
int bx_exec_run(const struct bx_box_record *box, const struct bx_spec *spec, const struct bx_relay_opts *o,
		struct bx_err *err);
/* The same for a process boxvm runs for its own ends (top's ps, cp's tar):
 * no exec events, as Docker logs none for those. */
int bx_exec_run_internal(const struct bx_box_record *box, const struct bx_spec *spec, const struct bx_relay_opts *o,
			 struct bx_err *err);

/* A running box's guest applies network changes (BX_M_NETCFG: lines of
 * src/agent/pure/netconf.h's bx_netcmd); -1 with err (the guest's reason,
 * made safe to print) if it did not. */
int bx_exec_netcfg(const struct bx_box_record *box, const char *text, struct bx_err *err);
/* One live limit of a running box's guest cgroup (BX_M_LIMIT: "FILE=VALUE",
 * src/agent/pure/limit.h); -1 with err (the guest's reason, made safe to
 * print: "the box has no cgroup" when it has none) if it was not set. */
int bx_exec_limit(const struct bx_box_record *box, const char *text, struct bx_err *err);

#endif
