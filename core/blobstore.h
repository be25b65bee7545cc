/*
 * blobstore: content-addressed files (evidence). A blob is written to a
 * temporary file while its SHA-256 is computed, fsynced, then renamed to
 * ROOT/ab/cd/<sha256>; the same content is stored once. Memory does not
 * grow with the size of a blob. Over the size limit, nothing is left behind.
 */
#ifndef CONFORM_BLOBSTORE_H
#define CONFORM_BLOBSTORE_H

#include <stdbool.h>
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

/* Finishes writing: the temporary file is flushed to disk and its digest
 * (hex, 65 bytes with NUL) and size are known, but it is not yet in its
 * place (no reader or janitor sees it). Call once; the writer stays the
 * caller's (blob_place, then blob_abort to free). */
cf_err blob_finish(struct blob_writer *w, char digest[65], uint64_t *size,
		   struct cf_error *err) CF_MUST_CHECK;

/* Puts a finished blob in its place under its digest (the same content is
 * stored once: an existing file is kept and its time refreshed, so that the
 * janitor's grace period counts from now). Safe to call again. The caller
 * holds the digest's lock (evidence.c) so that no janitor removes the file
 * between this and the row that references it. */
cf_err blob_place(struct blob_writer *w, struct cf_error *err) CF_MUST_CHECK;

/* blob_finish, then blob_place; the writer is freed, on error too. */
cf_err blob_commit(struct blob_writer *w, char digest[65], uint64_t *size,
		   struct cf_error *err) CF_MUST_CHECK;

/* Refreshes the time of the blob with digest (a reference to it was just
 * dropped: the janitor's grace period starts again). Missing: nothing. */
void blob_touch(const char *root, const char *digest);

/* Calls fn for every stored blob (not temporary files) with its digest, its
 * size and the seconds since it was last placed or touched. fn returns
 * false to stop. Files that are not blobs are skipped. */
typedef bool (*blob_visit_fn)(const char *digest, uint64_t size, long long age, void *arg);
cf_err blob_each(const char *root, blob_visit_fn fn, void *arg, struct cf_error *err) CF_MUST_CHECK;

/* Removes the blob with digest if it is at least min_age seconds old (looked
 * at again now); *removed says whether it was. Missing: not an error. */
cf_err blob_remove_if_old(const char *root, const char *digest, long long min_age, bool *removed,
			  uint64_t *size, struct cf_error *err) CF_MUST_CHECK;

/* Removes temporary files older than min_age seconds (uploads of a process
 * that died); returns how many. */
int blob_sweep_tmp(const char *root, long long min_age);

/* Frees the writer; a blob not placed (blob_place) is dropped: its
 * temporary file is removed. Safe on NULL. */
void blob_abort(struct blob_writer *w);

/* Opens the blob with digest for reading; the caller closes *fd. */
cf_err blob_open(const char *root, const char *digest, int *fd, uint64_t *size,
		 struct cf_error *err) CF_MUST_CHECK;

/* Bytes written so far. */
uint64_t blob_written(const struct blob_writer *w);

#endif
