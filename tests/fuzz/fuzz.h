/* Shared by the libFuzzer targets in this directory (see README.md here).
 * Each target calls the real parsers of src/image, src/vm, src/store, src/cli, src/runtime and src/proto on the input;
 * a crash, leak, sanitizer report or a failed FZ_CHECK is a finding. */
#ifndef BOXVM_FUZZ_H
#define BOXVM_FUZZ_H
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the code under test: abort (a libFuzzer crash) if it fails. */
#define FZ_CHECK(cond)                                                                             \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* The input as a malloc'd C string: the parsers under test take text, as the
 * CLI hands them argv or a file's contents (an embedded NUL ends the text). */
static inline char *fz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* Read every byte of p[0..n): ASan then checks that a decoder's pointers stay in bounds. */
static volatile uint8_t fz_sink;
static inline void fz_touch(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fz_sink ^= p[i];
}

/* Every failure explains itself: a bx_err holds a message after -1. */
#define FZ_CHECK_ERR(e) FZ_CHECK((e).msg[0] != '\0')
#endif
