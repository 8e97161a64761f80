/* Process spec: what to run and how, shared by host and guest.
 * Used for the main process (file /boxvm/spec in the per-box initramfs
 * segment) and for exec requests (payload of BX_M_REQ).
 *
 * Encoding: repeated records  u16 tag | u32 len | bytes  (LE), in any order;
 * unknown tags are an error (host and guest ship together). Strings are not
 * NUL-terminated on the wire. */
#ifndef BOXVM_SPEC_H
#define BOXVM_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

enum bx_spec_tag {
	BX_T_ARG = 1,        /* repeated: argv[i] */
	BX_T_ENV = 2,        /* repeated: "KEY=VALUE" */
	BX_T_CWD = 3,        /* working directory ("" = image default "/") */
	BX_T_USER = 4,       /* "name", "uid", "uid:gid", "name:group" ("" = root) */
	BX_T_TTY = 5,        /* u8 0/1 */
	BX_T_STDIN = 6,      /* u8 0/1: host will send stdin; else /dev/null */
	BX_T_HOSTNAME = 7,   /* box only */
	BX_T_ACCEPT_DELAY_MS = 8, /* box only, test knob: u32, delay serving the mux */
	BX_T_TIMEOUT_MS = 9, /* u32: kill the process after this long (0 = none) */
	BX_T_RLIMIT = 10,    /* repeated: u32 resource (RLIMIT_*) | u64 soft | u64 hard (~0 = unlimited) */
	BX_T_GROUP = 11,     /* repeated: u32 supplementary gid, added to the user's groups */
	BX_T_EXACT = 12,     /* u8 0/1, exec only: run exactly this process, inheriting nothing of the box's
	                      * env, user or cwd (boxvm-runtime: an OCI process is complete, as runc runs it) */
	BX_T_CAPS = 13,      /* u8 keep | u64 bounding | effective | permitted | inheritable | ambient (spec_limits.c);
	                      * absent: every capability (an exec: its box's sets) */
	BX_T_NO_NEW_PRIVS = 14, /* u8 0/1: prctl(PR_SET_NO_NEW_PRIVS) before exec (an exec: or its box's) */
	BX_T_SYSCTL = 15,    /* box only, repeated: "key=value" written to /proc/sys before main (--sysctl) */
	BX_T_SECCOMP = 16,   /* the seccomp filter, compiled on the host (spec_seccomp.c): classic BPF, each
	                      * instruction u16 code | u8 jt | u8 jf | u32 k (LE), 1..BX_SECCOMP_MAX_INSNS of them;
	                      * absent: none (an exec: its box's) */
	BX_T_OOM_SCORE_ADJ = 17, /* i32 (-1000..1000) written to /proc/self/oom_score_adj (an exec: or its box's) */
	/* box only: network, files and mounts the agent sets up before main (issue 6) */
	BX_T_IPV4 = 20,      /* "ADDR/PREFIX" for the box's NIC; absent: no NIC (--network none) */
	BX_T_GATEWAY = 21,   /* default route via this IPv4 address */
	BX_T_MTU = 22,       /* u32 */
	BX_T_ETC_HOSTS = 23, /* text of /etc/hosts */
	BX_T_ETC_RESOLV = 24, /* text of /etc/resolv.conf */
	BX_T_READ_ONLY = 25, /* u8 0/1: root filesystem read-only */
	BX_T_MOUNT = 26,     /* repeated: u8 kind | u8 ro | u16 n1 | source | u16 n2 | target | options (rest) */
	BX_T_SHM_SIZE = 27,  /* box only: u64 bytes of /dev/shm (absent: Docker's 64m) */
	BX_T_MASKED_PATH = 28,   /* box only, repeated: absolute path masked before main (/dev/null, or an empty ro tmpfs) */
	BX_T_READONLY_PATH = 29, /* box only, repeated: absolute path bound read-only on itself before main */
	BX_T_GROUP_NAME = 30,    /* repeated: supplementary group by name, resolved in the box's /etc/group */
	/* box only: limits of the guest's cgroup /box, which holds main and every exec (issue 16) */
	BX_T_CGROUP = 31,    /* repeated: "FILE=VALUE" written to /box's FILE (pids.max, memory.max, ...) before main */
	/* a build's shared VM (src/box/build_vm.c) */
	BX_T_IDLE = 32,      /* box only, u8 0/1: main waits for a signal instead of exec'ing ARGs (the build's steps
			      * are execs) */
	BX_T_BUILD_STEP = 33, /* exec only, u8 0/1: a build's RUN: a missing working directory is created (as for a
			       * box's main), and what the process leaves running dies when it exits */
	BX_T_MAX = 33,
};

/* Guest mounts (BX_T_MOUNT), in mount order. */
enum bx_spec_mount_kind {
	BX_SM_DIR = 1,   /* virtiofs tag `source` mounted on target */
	BX_SM_FILE = 2,  /* file `options` inside virtiofs tag `source`, bind-mounted on target */
	BX_SM_TMPFS = 3, /* tmpfs with `options` ("size=64m,...") on target */
};
struct bx_spec_mount {
	uint8_t kind;
	bool ro;
	char *source, *target, *options; /* never NULL once added/decoded */
};

/* A resource limit (BX_T_RLIMIT), applied with setrlimit before exec. */
struct bx_spec_rlimit {
	uint32_t resource; /* Linux RLIMIT_* number (same in glibc and musl: kernel ABI) */
	uint64_t soft, hard;
};

/* The process's capability sets (BX_T_CAPS), bit N for capability N. The
 * agent drops the bounding set, changes user, then sets the others; keep:
 * they hold across the change of user (runc's way, for an OCI process),
 * else the kernel clears a non-root user's (Docker's result: a non-root
 * user has only the bounding set). */
struct bx_spec_caps {
	bool set; /* false: the agent's own (all) */
	bool keep;
	uint64_t bounding, effective, permitted, inheritable, ambient;
};

/* One classic BPF instruction of a seccomp filter (struct sock_filter's fields). */
struct bx_spec_bpf {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};
#define BX_SECCOMP_MAX_INSNS 4096 /* the kernel's BPF_MAXINSNS */

struct bx_spec {
	char **args;   /* NULL-terminated */
	size_t nargs;
	char **env;    /* NULL-terminated */
	size_t nenv;
	char *cwd;     /* NULL = unset */
	char *user;    /* NULL = unset */
	char *hostname;
	bool tty, stdin_open;
	bool exact;    /* BX_T_EXACT */
	bool idle;     /* BX_T_IDLE */
	bool build_step; /* BX_T_BUILD_STEP */
	uint32_t accept_delay_ms;
	uint32_t timeout_ms;
	/* box only (see BX_T_IPV4 ..) */
	char *ipv4, *gateway;
	uint32_t mtu;
	char *etc_hosts, *etc_resolv;
	bool read_only;
	struct bx_spec_mount *mounts;
	size_t nmounts;
	/* resource limits and extra groups for the process (spec_limits.c) */
	struct bx_spec_rlimit *rlimits;
	size_t nrlimits;
	uint32_t *groups;
	size_t ngroups;
	/* privileges (spec_limits.c) */
	struct bx_spec_caps caps;
	bool no_new_privs;
	char **sysctls; /* box only: "key=value", NULL-terminated (BX_T_SYSCTL) */
	size_t nsysctls;
	char **cgroup;  /* box only: "file=value", NULL-terminated (BX_T_CGROUP) */
	size_t ncgroup;
	struct bx_spec_bpf *seccomp; /* BX_T_SECCOMP; NULL: no filter */
	size_t nseccomp;
	bool oom_score_adj_set;      /* BX_T_OOM_SCORE_ADJ */
	int32_t oom_score_adj;
	uint64_t shm_size;           /* BX_T_SHM_SIZE; 0: Docker's 64m */
	char **masked_paths;         /* BX_T_MASKED_PATH, NULL-terminated */
	size_t nmasked_paths;
	char **readonly_paths;       /* BX_T_READONLY_PATH, NULL-terminated */
	size_t nreadonly_paths;
	char **group_names;          /* BX_T_GROUP_NAME, NULL-terminated */
	size_t ngroup_names;
};

void bx_spec_init(struct bx_spec *s);
void bx_spec_free(struct bx_spec *s);
int bx_spec_add_arg(struct bx_spec *s, const char *a, struct bx_err *err);
int bx_spec_add_env(struct bx_spec *s, const char *kv, struct bx_err *err);
int bx_spec_add_sysctl(struct bx_spec *s, const char *kv, struct bx_err *err);
int bx_spec_add_cgroup(struct bx_spec *s, const char *kv, struct bx_err *err);
/* BX_T_MASKED_PATH / BX_T_READONLY_PATH (absolute paths) and BX_T_GROUP_NAME */
int bx_spec_add_masked_path(struct bx_spec *s, const char *path, struct bx_err *err);
int bx_spec_add_readonly_path(struct bx_spec *s, const char *path, struct bx_err *err);
int bx_spec_add_group_name(struct bx_spec *s, const char *name, struct bx_err *err);
/* Docker's masked and read-only paths (its default for a box not privileged) */
extern const char *const bx_docker_masked_paths[];
extern const char *const bx_docker_readonly_paths[];
/* env holds key=... (exec's TERM=xterm unless the caller set TERM) */
bool bx_spec_has_env(const struct bx_spec *s, const char *key);
/* Replace a string field with a copy of v (NULL: unset). */
int bx_spec_set_cwd(struct bx_spec *s, const char *cwd, struct bx_err *err);
int bx_spec_set_user(struct bx_spec *s, const char *user, struct bx_err *err);
int bx_spec_set_hostname(struct bx_spec *s, const char *hostname, struct bx_err *err);
/* Box-only strings (copies; NULL unsets). */
int bx_spec_set_net(struct bx_spec *s, const char *ipv4, const char *gateway, uint32_t mtu, struct bx_err *err);
int bx_spec_set_etc(struct bx_spec *s, const char *hosts, const char *resolv, struct bx_err *err);
int bx_spec_add_mount(struct bx_spec *s, uint8_t kind, bool ro, const char *source, const char *target,
		      const char *options, struct bx_err *err);
/* "nofile", "NOFILE" -> RLIMIT_NOFILE (Linux's number); -1: not a limit (spec_limits.c). */
int bx_rlimit_by_name(const char *name);
/* Append a resource limit / a supplementary gid (spec_limits.c). */
int bx_spec_add_rlimit(struct bx_spec *s, uint32_t resource, uint64_t soft, uint64_t hard, struct bx_err *err);
int bx_spec_add_group(struct bx_spec *s, uint32_t gid, struct bx_err *err);
/* Replace the seccomp filter with a copy of prog[0..n) (n == 0: none); more
 * than BX_SECCOMP_MAX_INSNS instructions is an error (spec_seccomp.c). */
int bx_spec_set_seccomp(struct bx_spec *s, const struct bx_spec_bpf *prog, size_t n, struct bx_err *err);
/* Docker's default capability set (its default profile: CHOWN, DAC_OVERRIDE,
 * FOWNER, FSETID, KILL, SETGID, SETUID, SETPCAP, NET_BIND_SERVICE, NET_RAW,
 * SYS_CHROOT, MKNOD, AUDIT_WRITE, SETFCAP) and every capability this
 * kernel ABI names (0..40). */
#define BX_CAPS_DOCKER_DEFAULT 0x00000000a80425fbULL
#define BX_CAP_LAST 40
#define BX_CAPS_ALL ((1ULL << (BX_CAP_LAST + 1)) - 1)
/* "NET_ADMIN", "CAP_NET_ADMIN", "net_admin" -> 12; -1: not a capability (caps.c) */
int bx_cap_parse(const char *name);
/* capability N's name without CAP_ ("NET_ADMIN"), or NULL */
const char *bx_cap_name(int n);
/* Encode into a malloc'd buffer. */
int bx_spec_encode(const struct bx_spec *s, uint8_t **out, size_t *out_len, struct bx_err *err);
/* Decode; *s must be freshly initialised. Fails on truncation, unknown tags, missing args
 * (also on duplicate single-valued tags, malformed flags/numbers, NUL bytes in strings);
 * on failure *s is left empty (freed and re-initialised). */
int bx_spec_decode(struct bx_spec *s, const uint8_t *buf, size_t len, struct bx_err *err);

#endif
