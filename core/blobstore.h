/*
 * blobstore: content-addressed files (evidence). A blob is written to a
 * temporary file while its SHA-256 is computed, fsynced, then renamed to
 * ROOT/ab/cd/<sha256>; the same content is stored once. Memory does not
 * grow with the size of a blob. Over the size limit, nothing is left behind.
 */
#ifndef CONFORM_BLOBSTORE_H
#define CONFORM_BLOBSTORE_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct blob_writer;

/* Starts a blob of at most max bytes under root (created if needed). */
cf_err blob_begin(const char *root, uint64_t max, struct blob_writer **out,
		  struct cf_error *err) CF_MUST_CHECK;

/* Appends n bytes. CF_ETOOLARGE past the limit (the writer must then be
 * aborted). */
cf_err blob_write(struct blob_writer *w, const void *data, size_t n, struct cf_error *err) CF_MUST_CHECK;

/* Finishes: the blob is durable under its digest (hex, 65 bytes with NUL),
 * *size its length. The writer is freed, on error too. */
cf_err blob_commit(struct blob_writer *w, char digest[65], uint64_t *size,
		   struct cf_error *err) CF_MUST_CHECK;

/* Drops an unfinished blob: the temporary file is removed. Safe on NULL. */
void blob_abort(struct blob_writer *w);

/* Opens the blob with digest for reading; the caller closes *fd. */
cf_err blob_open(const char *root, const char *digest, int *fd, uint64_t *size,
		 struct cf_error *err) CF_MUST_CHECK;

/* Bytes written so far. */
uint64_t blob_written(const struct blob_writer *w);

#endif
