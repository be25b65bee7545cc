/*
 * signerlink: framing and the client side of conform-signer's protocol (see
 * signerlink.h).
 */
#include "signerlink.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "mem.h"

static cf_err write_all(int fd, const void *data, size_t n, struct cf_error *err)
{
	const char *p = data;
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return cf_error_set(err, CF_EIO, NULL, "the signer connection broke: %s",
					    w < 0 ? strerror(errno) : "short write");
		p += w;
		n -= (size_t)w;
	}
	return CF_OK;
}

static cf_err read_all(int fd, void *data, size_t n, struct cf_error *err)
{
	char *p = data;
	while (n > 0) {
		ssize_t r = read(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return cf_error_set(err, CF_EIO, NULL, "the signer connection broke: %s",
					    errno == EAGAIN ? "timed out" : strerror(errno));
		if (r == 0)
			return cf_error_set(err, CF_EIO, NULL, "the signer connection closed early");
		p += r;
		n -= (size_t)r;
	}
	return CF_OK;
}

cf_err signerlink_send(int fd, const json_t *msg, struct cf_error *err)
{
	char *text = json_dumps(msg, JSON_COMPACT);
	if (!text)
		return cf_error_set(err, CF_EINTERNAL, NULL, "cannot serialise a signer message");
	size_t n = strlen(text);
	cf_err e = CF_OK;
	if (n > SIGNERLINK_MAX) {
		e = cf_error_set(err, CF_ETOOLARGE, NULL,
				 "a signer message is too large: more than %u bytes", SIGNERLINK_MAX);
		goto out;
	}
	unsigned char len[4] = { (unsigned char)(n >> 24), (unsigned char)(n >> 16),
				 (unsigned char)(n >> 8), (unsigned char)n };
	e = write_all(fd, len, sizeof len, err);
	if (!e)
		e = write_all(fd, text, n, err);
out:
	cf_wipe(text, n); /* an import request carries a passphrase */
	free(text);
	return e;
}

cf_err signerlink_recv(int fd, json_t **out, struct cf_error *err)
{
	*out = NULL;
	unsigned char len[4];
	cf_err e = read_all(fd, len, sizeof len, err);
	if (e)
		return e;
	size_t n = (size_t)len[0] << 24 | (size_t)len[1] << 16 | (size_t)len[2] << 8 | len[3];
	if (n > SIGNERLINK_MAX)
		return cf_error_set(err, CF_ETOOLARGE, NULL,
				    "a signer message is too large: more than %u bytes", SIGNERLINK_MAX);
	char *text = cf_malloc(n + 1);
	e = read_all(fd, text, n, err);
	if (!e) {
		json_t *j = json_loadb(text, n, JSON_REJECT_DUPLICATES, NULL);
		if (!json_is_object(j)) {
			json_decref(j);
			e = cf_error_set(err, CF_EINVAL, NULL, "a signer message is not a JSON object");
		} else {
			*out = j;
		}
	}
	cf_wipe(text, n); /* an import request carries a passphrase */
	free(text);
	return e;
}

/* A connected socket to the signer at socket_path in *fd. */
static cf_err link_connect(const char *socket_path, int *fd, struct cf_error *err)
{
	*fd = -1;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof addr.sun_path)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "the signer socket path %s is longer than %zu bytes", socket_path,
				    sizeof addr.sun_path - 1);
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return cf_error_set(err, CF_EIO, NULL, "cannot make a socket: %s", strerror(errno));
	struct timeval tv = { .tv_sec = SIGNERLINK_TIMEOUT };
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(s, (struct sockaddr *)&addr, sizeof addr) != 0) {
		cf_err e = cf_error_set(err, CF_EUNAVAILABLE, NULL,
					"cannot reach conform-signer at %s: %s (is it running?)",
					socket_path, strerror(errno));
		close(s);
		return e;
	}
	*fd = s;
	return CF_OK;
}

/* The signer's answer to req on fd, in *answer (new reference). */
static cf_err link_exchange(int fd, const json_t *req, json_t **answer, struct cf_error *err)
{
	*answer = NULL;
	cf_err e = signerlink_send(fd, req, err);
	if (!e)
		e = signerlink_recv(fd, answer, err);
	return e;
}

/* *out from an answer's "ok", or the signer's error. */
static cf_err link_result(const json_t *answer, json_t **out, struct cf_error *err)
{
	json_t *ok = json_object_get(answer, "ok");
	json_t *bad = json_object_get(answer, "error");
	if (json_is_object(ok)) {
		*out = json_incref(ok);
		return CF_OK;
	}
	if (json_is_object(bad)) {
		json_int_t code = json_integer_value(json_object_get(bad, "code"));
		const char *detail = json_string_value(json_object_get(bad, "detail"));
		if (code <= 0 || code >= CF_CODE_COUNT)
			code = CF_EINTERNAL;
		return cf_error_set(err, (enum cf_code)code, NULL, "%s",
				    detail ? detail : "the signer failed without a reason");
	}
	return cf_error_set(err, CF_EINTERNAL, NULL, "the signer answered neither ok nor error");
}

cf_err signerlink_call(const char *socket_path, const json_t *req, json_t **out,
		       struct cf_error *err)
{
	*out = NULL;
	json_t *answer = NULL;
	int fd = -1;
	cf_err e = link_connect(socket_path, &fd, err);
	if (!e)
		e = link_exchange(fd, req, &answer, err);
	if (!e)
		e = link_result(answer, out, err);
	json_decref(answer);
	if (fd >= 0)
		close(fd);
	return e;
}

/* The calling thread's kept connection. */
struct kept {
	char *path;
	int fd;
};

static pthread_key_t kept_key;
static pthread_once_t kept_once = PTHREAD_ONCE_INIT;

static void kept_free(void *p)
{
	struct kept *k = p;
	if (k->fd >= 0)
		close(k->fd);
	free(k->path);
	free(k);
}

static void kept_init(void)
{
	pthread_key_create(&kept_key, kept_free);
}

/* Whether an idle kept connection is still open: the signer sends nothing
 * unasked, so anything readable is its end (or garbage: drop it too). */
static bool kept_alive(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;
}

static void kept_drop(struct kept *k)
{
	if (k->fd >= 0)
		close(k->fd);
	k->fd = -1;
}

cf_err signerlink_call_kept(const char *socket_path, const json_t *req, json_t **out,
			    struct cf_error *err)
{
	*out = NULL;
	pthread_once(&kept_once, kept_init);
	struct kept *k = pthread_getspecific(kept_key);
	if (!k) {
		k = cf_calloc(1, sizeof *k);
		k->fd = -1;
		pthread_setspecific(kept_key, k);
	}
	if (k->fd >= 0 && (strcmp(k->path, socket_path) != 0 || !kept_alive(k->fd)))
		kept_drop(k);
	json_t *answer = NULL;
	cf_err e = CF_OK;
	bool reused = k->fd >= 0;
	if (!reused) {
		free(k->path);
		k->path = cf_strdup(socket_path);
		e = link_connect(socket_path, &k->fd, err);
	}
	if (!e)
		e = link_exchange(k->fd, req, &answer, err);
	if (e == CF_EIO && reused) {
		/* closed under us between the check and the request: once more */
		kept_drop(k);
		e = link_connect(socket_path, &k->fd, err);
		if (!e)
			e = link_exchange(k->fd, req, &answer, err);
	}
	if (e)
		kept_drop(k); /* a broken frame leaves the stream unusable */
	else
		e = link_result(answer, out, err);
	json_decref(answer);
	return e;
}
