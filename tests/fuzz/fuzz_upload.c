/*
 * fuzz_upload: the parts of an evidence upload that need no server: the
 * file name (evidence_safe_name, which goes into headers and file names),
 * the ids of the query (ids_is_uuid, before anything reaches
 * PostgreSQL), and the body streamed into the blob store in chunks of the
 * sizes libmicrohttpd might hand over, under a cap (core/blobstore.c).
 * Input: a name line, an id line, then the body; the body's first byte
 * picks the chunk size. A committed blob is the body, named by its SHA-256.
 */
#include <stdbool.h>
#include <unistd.h>

#include "blobstore.h"
#include "digest.h"
#include "evidence.h"
#include "fuzz.h"
#include "ids.h"
#include "party.h"

#define FUZZ_UPLOAD_MAX 4096

static char *root;

static void cleanup(void)
{
	if (!root)
		return;
	char *cmd = cf_asprintf("rm -rf '%s'", root);
	if (system(cmd) != 0)
		fprintf(stderr, "fuzz_upload: could not remove %s\n", root);
	free(cmd);
}

static const char *blob_root(void)
{
	if (!root) {
		char tmpl[] = "/tmp/conform-fuzz-upload.XXXXXX";
		FUZZ_ASSERT(mkdtemp(tmpl) != NULL);
		root = cf_strdup(tmpl);
		atexit(cleanup);
	}
	return root;
}

static void safe_name(const char *name)
{
	char out[256];
	evidence_safe_name(name, out, sizeof out);
	FUZZ_ASSERT(strlen(out) < sizeof out && out[0] && out[0] != '.');
	for (const unsigned char *p = (const unsigned char *)out; *p; p++)
		FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f && *p != '/' && *p != '"' && *p != '\\');
}

static void stream(const uint8_t *body, size_t n)
{
	struct cf_error err;
	struct blob_writer *w = NULL;
	FUZZ_ASSERT(blob_begin(blob_root(), FUZZ_UPLOAD_MAX, &w, &err) == CF_OK);
	size_t chunk = n ? (size_t)body[0] % 97 + 1 : 1;
	bool ok = true;
	for (size_t off = 0; off < n && ok; off += chunk) {
		size_t len = n - off < chunk ? n - off : chunk;
		ok = blob_write(w, body + off, len, &err) == CF_OK;
	}
	if (!ok) {
		FUZZ_ASSERT(n > FUZZ_UPLOAD_MAX && err.code == CF_ETOOLARGE);
		blob_abort(w);
		return;
	}
	FUZZ_ASSERT(n <= FUZZ_UPLOAD_MAX && blob_written(w) == n);
	char digest[65];
	uint64_t size = 0;
	FUZZ_ASSERT(blob_commit(w, digest, &size, &err) == CF_OK);
	char want[DIGEST_SHA256_HEX_LEN];
	digest_sha256_hex(body, n, want);
	FUZZ_ASSERT(size == n && strcmp(digest, want) == 0);
	int fd = -1;
	uint64_t stored = 0;
	FUZZ_ASSERT(blob_open(blob_root(), digest, &fd, &stored, &err) == CF_OK);
	FUZZ_ASSERT(stored == n);
	close(fd);
	/* content-addressed: remove it so that a long run does not fill /tmp */
	char *path = cf_asprintf("%s/%.2s/%.2s/%s", blob_root(), digest, digest + 2, digest);
	unlink(path);
	free(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *end = data + size;
	const uint8_t *nl1 = memchr(data, '\n', size);
	if (!nl1)
		nl1 = end;
	char *name = fuzz_cstr(data, (size_t)(nl1 - data));
	const uint8_t *rest = nl1 < end ? nl1 + 1 : end;
	const uint8_t *nl2 = memchr(rest, '\n', (size_t)(end - rest));
	if (!nl2)
		nl2 = end;
	char *id = fuzz_cstr(rest, (size_t)(nl2 - rest));
	const uint8_t *body = nl2 < end ? nl2 + 1 : end;

	safe_name(name);
	if (ids_is_uuid(id))
		FUZZ_ASSERT(strlen(id) == 36);
	stream(body, (size_t)(end - body));
	free(id);
	free(name);
	return 0;
}
