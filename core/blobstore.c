/*
 * blobstore: content-addressed files written through a temporary file (see
 * blobstore.h). Temporary files live in ROOT/tmp, on the same file system as
 * their final place, so that the rename is atomic.
 */
#include "blobstore.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "codec.h"
#include "digest.h"
#include "mem.h"

struct blob_writer {
	char *root;
	char *tmp_path;
	int fd;
	uint64_t written, max;
	struct digest_ctx *hash;
};

static cf_err mkdir_p(const char *path, struct cf_error *err)
{
	char *p = cf_strdup(path);
	cf_err e = CF_OK;
	for (char *s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0750) != 0 && errno != EEXIST) {
				e = cf_error_set(err, CF_EIO, NULL, "cannot create %s: %s", p, strerror(errno));
				break;
			}
			*s = c;
			if (c == '\0')
				break;
		}
	}
	free(p);
	return e;
}

cf_err blob_begin(const char *root, uint64_t max, struct blob_writer **out, struct cf_error *err)
{
	*out = NULL;
	char *tmpdir = cf_asprintf("%s/tmp", root);
	cf_err e = mkdir_p(tmpdir, err);
	if (e) {
		free(tmpdir);
		return e;
	}
	struct blob_writer *w = cf_calloc(1, sizeof *w);
	w->root = cf_strdup(root);
	w->tmp_path = cf_asprintf("%s/upload.XXXXXX", tmpdir);
	free(tmpdir);
	w->fd = mkstemp(w->tmp_path);
	if (w->fd < 0) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot create a temporary file in %s: %s", root,
				 strerror(errno));
		free(w->tmp_path);
		free(w->root);
		free(w);
		return e;
	}
	w->max = max;
	w->hash = digest_sha256_new();
	*out = w;
	return CF_OK;
}

cf_err blob_write(struct blob_writer *w, const void *data, size_t n, struct cf_error *err)
{
	if (n > w->max || w->written > w->max - n)
		return cf_error_set(err, CF_ETOOLARGE, NULL, "the file is larger than the limit of %llu bytes",
				    (unsigned long long)w->max);
	const char *p = data;
	size_t left = n;
	while (left) {
		ssize_t k = write(w->fd, p, left);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return cf_error_set(err, CF_EIO, NULL, "cannot write the file: %s", strerror(errno));
		}
		p += k;
		left -= (size_t)k;
	}
	digest_update(w->hash, data, n);
	w->written += n;
	return CF_OK;
}

uint64_t blob_written(const struct blob_writer *w)
{
	return w->written;
}

static void writer_free(struct blob_writer *w)
{
	if (w->fd >= 0)
		close(w->fd);
	digest_abort(w->hash);
	free(w->tmp_path);
	free(w->root);
	free(w);
}

void blob_abort(struct blob_writer *w)
{
	if (!w)
		return;
	unlink(w->tmp_path);
	writer_free(w);
}

static char *blob_path(const char *root, const char *digest)
{
	return cf_asprintf("%s/%.2s/%.2s/%s", root, digest, digest + 2, digest);
}

cf_err blob_commit(struct blob_writer *w, char digest[65], uint64_t *size, struct cf_error *err)
{
	unsigned char d[DIGEST_SHA256_LEN];
	digest_final(w->hash, d);
	w->hash = NULL;
	codec_hex_encode(d, sizeof d, digest);
	*size = w->written;
	cf_err e = CF_OK;
	char *dir = cf_asprintf("%s/%.2s/%.2s", w->root, digest, digest + 2);
	char *final = blob_path(w->root, digest);
	if (fsync(w->fd) != 0) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot flush the file: %s", strerror(errno));
		goto out;
	}
	e = mkdir_p(dir, err);
	if (e)
		goto out;
	struct stat st;
	if (stat(final, &st) == 0 && (uint64_t)st.st_size == w->written) {
		/* the same content is stored once */
		unlink(w->tmp_path);
		goto out;
	}
	if (rename(w->tmp_path, final) != 0) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot store the file: %s", strerror(errno));
		goto out;
	}
	/* the rename is durable once its directory is */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	if (e)
		unlink(w->tmp_path);
	free(dir);
	free(final);
	writer_free(w);
	return e;
}

cf_err blob_open(const char *root, const char *digest, int *fd, uint64_t *size, struct cf_error *err)
{
	*fd = -1;
	if (strlen(digest) != 64 || strspn(digest, "0123456789abcdef") != 64)
		return cf_error_set(err, CF_EINVAL, NULL, "not a SHA-256 digest");
	char *path = blob_path(root, digest);
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	cf_err e = CF_OK;
	struct stat st;
	if (*fd < 0)
		e = cf_error_set(err, CF_EIO, NULL, "the stored file %.12s... is missing", digest);
	else if (fstat(*fd, &st) != 0)
		e = cf_error_set(err, CF_EIO, NULL, "cannot read the stored file");
	else
		*size = (uint64_t)st.st_size;
	if (e && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	free(path);
	return e;
}
