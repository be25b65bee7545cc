/*
 * blobstore: content-addressed files written through a temporary file (see
 * blobstore.h). Temporary files live in ROOT/tmp, on the same file system as
 * their final place, so that the rename is atomic.
 */
#include "blobstore.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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
	char digest[65];
	bool finished, placed; /* blob_finish, blob_place done */
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
	if (!w->placed)
		unlink(w->tmp_path);
	writer_free(w);
}

static char *blob_path(const char *root, const char *digest)
{
	return cf_asprintf("%s/%.2s/%.2s/%s", root, digest, digest + 2, digest);
}

cf_err blob_finish(struct blob_writer *w, char digest[65], uint64_t *size, struct cf_error *err)
{
	unsigned char d[DIGEST_SHA256_LEN];
	digest_final(w->hash, d);
	w->hash = NULL;
	codec_hex_encode(d, sizeof d, w->digest);
	snprintf(digest, 65, "%s", w->digest);
	*size = w->written;
	if (fsync(w->fd) != 0)
		return cf_error_set(err, CF_EIO, NULL, "cannot flush the file: %s", strerror(errno));
	w->finished = true;
	return CF_OK;
}

cf_err blob_place(struct blob_writer *w, struct cf_error *err)
{
	if (!w->finished)
		return cf_error_set(err, CF_EINTERNAL, NULL, "the blob is not finished");
	if (w->placed)
		return CF_OK;
	cf_err e = CF_OK;
	char *dir = cf_asprintf("%s/%.2s/%.2s", w->root, w->digest, w->digest + 2);
	char *final = blob_path(w->root, w->digest);
	e = mkdir_p(dir, err);
	if (e)
		goto out;
	struct stat st;
	if (stat(final, &st) == 0 && (uint64_t)st.st_size == w->written) {
		/* the same content is stored once; its grace period starts again */
		utimensat(AT_FDCWD, final, NULL, 0);
		unlink(w->tmp_path);
		w->placed = true;
		goto out;
	}
	if (rename(w->tmp_path, final) != 0) {
		e = cf_error_set(err, CF_EIO, NULL, "cannot store the file: %s", strerror(errno));
		goto out;
	}
	w->placed = true;
	/* the rename is durable once its directory is */
	int dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
out:
	free(dir);
	free(final);
	return e;
}

cf_err blob_commit(struct blob_writer *w, char digest[65], uint64_t *size, struct cf_error *err)
{
	cf_err e = blob_finish(w, digest, size, err);
	if (!e)
		e = blob_place(w, err);
	blob_abort(w);
	return e;
}

void blob_touch(const char *root, const char *digest)
{
	char *path = blob_path(root, digest);
	utimensat(AT_FDCWD, path, NULL, 0);
	free(path);
}

static bool is_digest(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static bool is_hex2(const char *s)
{
	return strlen(s) == 2 && strspn(s, "0123456789abcdef") == 2;
}

cf_err blob_each(const char *root, blob_visit_fn fn, void *arg, struct cf_error *err)
{
	DIR *top = opendir(root);
	if (!top) {
		if (errno == ENOENT)
			return CF_OK; /* nothing stored yet */
		return cf_error_set(err, CF_EIO, NULL, "cannot read %s: %s", root, strerror(errno));
	}
	bool go = true;
	time_t now = time(NULL);
	struct dirent *a;
	while (go && (a = readdir(top))) {
		if (!is_hex2(a->d_name))
			continue;
		char *p1 = cf_asprintf("%s/%s", root, a->d_name);
		DIR *d1 = opendir(p1);
		struct dirent *b;
		while (go && d1 && (b = readdir(d1))) {
			if (!is_hex2(b->d_name))
				continue;
			char *p2 = cf_asprintf("%s/%s", p1, b->d_name);
			DIR *d2 = opendir(p2);
			struct dirent *c;
			while (go && d2 && (c = readdir(d2))) {
				if (!is_digest(c->d_name) || strncmp(c->d_name, a->d_name, 2) != 0 ||
				    strncmp(c->d_name + 2, b->d_name, 2) != 0)
					continue;
				struct stat st;
				if (fstatat(dirfd(d2), c->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
				    !S_ISREG(st.st_mode))
					continue;
				go = fn(c->d_name, (uint64_t)st.st_size, (long long)(now - st.st_mtime), arg);
			}
			if (d2)
				closedir(d2);
			free(p2);
		}
		if (d1)
			closedir(d1);
		free(p1);
	}
	closedir(top);
	return CF_OK;
}

cf_err blob_remove_if_old(const char *root, const char *digest, long long min_age, bool *removed,
			  uint64_t *size, struct cf_error *err)
{
	*removed = false;
	*size = 0;
	if (!is_digest(digest))
		return cf_error_set(err, CF_EINVAL, NULL, "not a SHA-256 digest");
	char *path = blob_path(root, digest);
	cf_err e = CF_OK;
	struct stat st;
	if (stat(path, &st) == 0 && (long long)(time(NULL) - st.st_mtime) >= min_age) {
		if (unlink(path) == 0) {
			*removed = true;
			*size = (uint64_t)st.st_size;
		} else if (errno != ENOENT) {
			e = cf_error_set(err, CF_EIO, NULL, "cannot remove the stored file %.12s...: %s",
					 digest, strerror(errno));
		}
	}
	free(path);
	return e;
}

int blob_sweep_tmp(const char *root, long long min_age)
{
	char *tmpdir = cf_asprintf("%s/tmp", root);
	DIR *d = opendir(tmpdir);
	int n = 0;
	time_t now = time(NULL);
	struct dirent *c;
	while (d && (c = readdir(d))) {
		struct stat st;
		if (strncmp(c->d_name, "upload.", 7) != 0 ||
		    fstatat(dirfd(d), c->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
			continue;
		if ((long long)(now - st.st_mtime) >= min_age && unlinkat(dirfd(d), c->d_name, 0) == 0)
			n++;
	}
	if (d)
		closedir(d);
	free(tmpdir);
	return n;
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
