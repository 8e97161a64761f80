/* Seccomp profiles, compiled on the host into the BPF the guest agent
 * installs (BX_T_SECCOMP): Docker's JSON profile format (--security-opt
 * seccomp=FILE, and Docker's own default profile, data/seccomp/), evaluated
 * as Docker 20.10 does against the box's final capability set, and OCI's
 * linux.seccomp (boxvm-runtime). The rules then go through libseccomp as
 * runc adds them. The guest never sees the JSON: it gets the program only.
 *
 * Two steps: bx_seccomp_parse (pure: JSON -> rules, every size bounded,
 * unit-tested and fuzzed) and bx_seccomp_compile (libseccomp -> BPF). */
#ifndef BOXVM_BOX_SECCOMP_H
#define BOXVM_BOX_SECCOMP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"
#include "../proto/spec.h"

/* bounds on what a profile may hold (Docker's default: 1 rule of 300 names, 30 rules in all) */
#define BX_SECCOMP_MAX_TEXT (1u << 20)  /* bytes of a profile file */
#define BX_SECCOMP_MAX_RULES 8192 
#define BX_SECCOMP_MAX_NAMES 8192      /* syscall names, all rules together */
#define BX_SECCOMP_MAX_NAME 64         /* bytes of one syscall name */
#define BX_SECCOMP_MAX_ARGS 16         /* conditions of one rule */
#define BX_SECCOMP_MAX_ARCHES 16

enum bx_seccomp_format {
	BX_SECCOMP_DOCKER, /* Docker's profile: name/names, archMap, includes/excludes */
	BX_SECCOMP_OCI,    /* runtime-spec linux.seccomp: names, architectures, defaultErrnoRet */
};

/* What Docker's includes/excludes are evaluated against. */
struct bx_seccomp_target {
	uint64_t bounding;      /* the process's final bounding set ("caps") */
	unsigned kernel_major;  /* the guest kernel's version ("minKernel") */
	unsigned kernel_minor;
};

struct bx_seccomp_arg {
	unsigned index;       /* 0..5 */
	int op;               /* libseccomp's enum scmp_compare */
	uint64_t value, value_two;
};

struct bx_seccomp_rule {
	char **names;         /* NULL-terminated */
	size_t nnames;
	uint32_t action;      /* libseccomp's action, errno included */
	struct bx_seccomp_arg args[BX_SECCOMP_MAX_ARGS];
	size_t nargs;
};

struct bx_seccomp_profile {
	bool none;            /* no defaultAction and no syscalls: Docker and runc apply no filter */
	uint32_t default_action;
	uint32_t arches[BX_SECCOMP_MAX_ARCHES]; /* libseccomp's SCMP_ARCH_* (the native one is always in) */
	size_t narches;
	struct bx_seccomp_rule *rules; /* those that apply to the target, in profile order */
	size_t nrules;
};

/* A profile object into rules (t: the Docker format's includes/excludes;
 * ignored for OCI). Errors name the field, as runc's do. On failure *p is
 * left empty. */
int bx_seccomp_parse(json_t *obj, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t,
		     struct bx_seccomp_profile *p, struct bx_err *err);
/* The same from JSON text (a profile file's), at most BX_SECCOMP_MAX_TEXT bytes. */
int bx_seccomp_parse_text(const char *text, size_t len, enum bx_seccomp_format fmt, const struct bx_seccomp_target *t,
			  struct bx_seccomp_profile *p, struct bx_err *err);
void bx_seccomp_profile_free(struct bx_seccomp_profile *p);

/* The rules through libseccomp into spec's filter (p->none: none). A program
 * over the kernel's 4096 instructions is an error. */
int bx_seccomp_compile(const struct bx_seccomp_profile *p, struct bx_spec *spec, struct bx_err *err);

/* Docker 20.10's default profile (data/seccomp/docker-default.json, embedded). */
extern const char bx_seccomp_docker_default[];
extern const size_t bx_seccomp_docker_default_len;

/* "6.1.0-57-cloud-amd64" -> 6, 1 (0, 0 if it does not start so). */
void bx_seccomp_kernel_version(const char *release, unsigned *major, unsigned *minor);

#endif
