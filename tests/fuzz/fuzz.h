/*
 * fuzz: what every fuzz target shares. A target defines
 * LLVMFuzzerTestOneInput (libFuzzer's entry point); under clang with
 * CONFORM_FUZZ it is linked with libFuzzer, and in every build with
 * replay.c, which feeds it the corpus once (a ctest). A target checks
 * properties with FUZZ_ASSERT, which aborts so that both drivers report it.
 */
#ifndef CONFORM_FUZZ_H
#define CONFORM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(cond)                                                              \
	do {                                                                           \
		if (!(cond)) {                                                         \
			fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
				#cond);                                                \
			abort();                                                       \
		}                                                                      \
	} while (0)

/* The n bytes at data as a new NUL-terminated string (the caller frees).
 * Parsers of C strings see the input up to its first NUL, as they would
 * see a header or a query value. */
static inline char *fuzz_cstr(const uint8_t *data, size_t n)
{
	char *s = cf_malloc(n + 1);
	if (n)
		memcpy(s, data, n);
	s[n] = '\0';
	return s;
}

#endif
