/*
 * rnd: random bytes from OpenSSL's CSPRNG, and identifiers built on them. A
 * failure of the generator aborts: nothing in conform may go on without it.
 */
#ifndef CONFORM_RND_H
#define CONFORM_RND_H

#include <stddef.h>

void rnd_bytes(void *out, size_t n);

/* Writes a random (version 4) UUID in canonical lowercase form to out[37]. */
void rnd_uuid(char out[37]);

/* Writes 2n random hex digits and a NUL to out (2n+1 bytes). */
void rnd_hex(char *out, size_t n);

#endif
