/*
 * Unit tests of core/blobstore: a finished blob is invisible until it is
 * placed; placing is idempotent and stores the same content once; the
 * janitor's primitives (walk, remove only when old enough, touch, sweep of
 * abandoned temporary files).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "blobstore.h"
#include "mem.h"
#include "tsupport.h"

static char root[64];

static void setup(void)
{
	snprintf(root, sizeof root, "/tmp/conform-blobs.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(root));
}

static void teardown(void)
{
	char *cmd = cf_asprintf("rm -rf '%s'", root);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
}

static struct blob_writer *written(const char *text, char digest[65])
{
	struct cf_error err;
	struct blob_writer *w = NULL;
	uint64_t size = 0;
	ck_assert_int_eq(blob_begin(root, 1024, &w, &err), 0);
	ck_assert_int_eq(blob_write(w, text, strlen(text), &err), 0);
	ck_assert_int_eq(blob_finish(w, digest, &size, &err), 0);
	ck_assert_uint_eq(size, strlen(text));
	return w;
}

static bool stored(const char *digest)
{
	struct cf_error err;
	int fd = -1;
	uint64_t size = 0;
	if (blob_open(root, digest, &fd, &size, &err))
		return false;
	close(fd);
	return true;
}

static bool count_visit(const char *digest, uint64_t size, long long age, void *arg)
{
	(void)digest;
	(void)size;
	ck_assert_int_ge(age, 0);
	(*(int *)arg)++;
	return true;
}

static int blobs(void)
{
	struct cf_error err;
	int n = 0;
	ck_assert_int_eq(blob_each(root, count_visit, &n, &err), 0);
	return n;
}

/* Sets the blob's time seconds into the past. */
static void age(const char *digest, long seconds)
{
	char *path = cf_asprintf("%s/%.2s/%.2s/%s", root, digest, digest + 2, digest);
	struct timeval tv[2];
	gettimeofday(&tv[0], NULL);
	tv[0].tv_sec -= seconds;
	tv[1] = tv[0];
	ck_assert_int_eq(utimes(path, tv), 0);
	free(path);
}

START_TEST(a_finished_blob_is_placed_once)
{
	struct cf_error err;
	char d1[65], d2[65];
	struct blob_writer *w = written("evidence", d1);
	ck_assert(!stored(d1)); /* finished, not yet placed: nobody sees it */
	ck_assert_int_eq(blob_place(w, &err), 0);
	ck_assert_int_eq(blob_place(w, &err), 0); /* a retried transaction places again */
	blob_abort(w);                            /* frees; a placed blob stays */
	ck_assert(stored(d1));
	/* the same content again: one file */
	w = written("evidence", d2);
	ck_assert_str_eq(d1, d2);
	ck_assert_int_eq(blob_place(w, &err), 0);
	blob_abort(w);
	ck_assert_int_eq(blobs(), 1);
	/* a finished blob never placed leaves nothing */
	w = written("dropped", d2);
	blob_abort(w);
	ck_assert(!stored(d2));
	ck_assert_int_eq(blob_sweep_tmp(root, 0), 0);
	ck_assert_int_eq(blobs(), 1);
}
END_TEST

START_TEST(only_old_enough_blobs_are_removed)
{
	struct cf_error err;
	char d[65];
	struct blob_writer *w = written("old evidence", d);
	ck_assert_int_eq(blob_place(w, &err), 0);
	blob_abort(w);
	bool removed = true;
	uint64_t size = 0;
	ck_assert_int_eq(blob_remove_if_old(root, d, 3600, &removed, &size, &err), 0);
	ck_assert(!removed);
	age(d, 7200);
	blob_touch(root, d); /* released again: the grace period starts again */
	ck_assert_int_eq(blob_remove_if_old(root, d, 3600, &removed, &size, &err), 0);
	ck_assert(!removed);
	age(d, 7200);
	ck_assert_int_eq(blob_remove_if_old(root, d, 3600, &removed, &size, &err), 0);
	ck_assert(removed);
	ck_assert_uint_eq(size, strlen("old evidence"));
	ck_assert(!stored(d));
	ck_assert_int_eq(blobs(), 0);
	/* gone already, or not a digest */
	ck_assert_int_eq(blob_remove_if_old(root, d, 0, &removed, &size, &err), 0);
	ck_assert(!removed);
	ck_assert_int_eq(blob_remove_if_old(root, "../../etc/passwd", 0, &removed, &size, &err), CF_EINVAL);
}
END_TEST

START_TEST(abandoned_uploads_are_swept)
{
	struct cf_error err;
	struct blob_writer *w = NULL;
	ck_assert_int_eq(blob_begin(root, 1024, &w, &err), 0);
	ck_assert_int_eq(blob_write(w, "half", 4, &err), 0);
	ck_assert_int_eq(blob_sweep_tmp(root, 3600), 0); /* an upload under way */
	ck_assert_int_eq(blob_sweep_tmp(root, 0), 1);    /* one abandoned */
	blob_abort(w);
	/* files that are not blobs are not walked */
	char *odd = cf_asprintf("%s/ab", root);
	ck_assert_int_eq(mkdir(odd, 0700), 0);
	free(odd);
	odd = cf_asprintf("%s/ab/not-a-blob", root);
	FILE *f = fopen(odd, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	free(odd);
	ck_assert_int_eq(blobs(), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("blobstore");
	TCase *tc = tcase_create("blobstore");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_finished_blob_is_placed_once);
	tcase_add_test(tc, only_old_enough_blobs_are_removed);
	tcase_add_test(tc, abandoned_uploads_are_swept);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
