/* `boxvm build`: a Dockerfile's instructions as a sequence of commits. A
 * config instruction makes a config-only image (history's empty_layer), a
 * COPY/ADD a layer made on the host from the context (build_copy.h), a RUN
 * a fresh box of the stage's image with the step's env, user and workdir,
 * whose changes are committed as one layer before it is removed. A step is
 * reused when its parent image and its history line (the instruction after
 * substitution, the ARG values a RUN sees, a COPY's content digest) are
 * those of an earlier build: DATA/buildcache/<sha256 of both> names the
 * image it made. Output as Docker's classic builder prints it. */
#ifndef BOXVM_BOX_BUILD_H
#define BOXVM_BOX_BUILD_H

#include <stdbool.h>
#include <stdio.h>

#include "../common/err.h"
#include "../common/paths.h"
#include "../image/image.h"
#include "resources.h"

struct bx_build_opts {
	const char *context;    /* the context directory */
	const char *dockerfile; /* NULL: CONTEXT/Dockerfile; "-": read from stdin */
	char **build_args;      /* --build-arg K=V (or K: the caller's value), NULL-terminated, may be NULL */
	char **labels;          /* --label K=V, likewise */
	char **tags;            /* -t NAME[:TAG], likewise */
	bool no_cache;
	bool quiet;             /* -q: no progress, no RUN output */
	const char *network;    /* --network: each RUN's box's (NULL: the default network; "none") */
	char **add_hosts;       /* --add-host HOST:IP, NULL-terminated, may be NULL */
	const struct bx_resources *res; /* -m, --memory-swap, --cpu-shares, --cpuset-cpus of each RUN's box */
	int *run_code;          /* set: gets a failing RUN's exit code (the build's, as docker build's), else 0 */
	bool to_fd;             /* progress and RUN output (stdout and stderr alike) go to out_fd, not to
	                         * this process's stdout and stderr (the Engine API's stream) */
	int out_fd;
	const char *target;     /* --target STAGE: the build ends with that stage (NULL: the last) */
	const char *platform;   /* --platform: must name linux/amd64 (NULL: not given) */
	bool dockerfile_in_context; /* dockerfile is a path inside the context (a context from stdin), resolved in it */
	/* Fetches ref from its registry (the CLI's pull, its output on stdout
	 * unless quiet) when a FROM's image is not here, and every time with
	 * pull_always (--pull); NULL: a missing base image is an error. */
	int (*pull)(const struct bx_paths *p, const char *ref, bool quiet, struct bx_err *err);
	bool pull_always;
};

/* Returns 0 and the image's ID; a failing RUN: its exit code N in err
 * (the build's, as docker build's) with Docker's "The command '...'
 * returned a non-zero code: N". */
int bx_build(const struct bx_paths *p, const struct bx_build_opts *o, char id[BX_DIGEST_SIZE], struct bx_err *err);

#endif
