/* A live limit of the box's cgroup in the guest (BX_M_LIMIT, `update` of a
 * running box): "FILE=VALUE", FILE one of a whitelist of
 * the box cgroup /box's files (src/agent/cgroup.c) and VALUE of the form that file takes, so the
 * host can name nothing else to write (pure). */
#ifndef BOXVM_AGENT_LIMIT_H
#define BOXVM_AGENT_LIMIT_H

#include <stddef.h>

#include "../../common/err.h"

#define BX_LIMIT_VALUE_MAX 64

struct bx_limit {
	char file[16];                    /* pids.max, memory.max, memory.low, cpu.weight, cpuset.cpus */
	char value[BX_LIMIT_VALUE_MAX];
};

/* Parse and check one request (not NUL-terminated, len bytes): pids.max,
 * memory.max and memory.low take "max" or a number, cpu.weight 1..10000,
 * cpuset.cpus a list of digits, ',' and '-'. -1 with err saying why not. */
int bx_limit_parse(const char *text, size_t len, struct bx_limit *out, struct bx_err *err);

#endif
