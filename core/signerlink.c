/*
 * signerlink: framing and the client side of conform-signer's protocol (see
 * signerlink.h).
 */
#include "signerlink.h"

#include <errno.h>
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

cf_err signerlink_call(const char *socket_path, const json_t *req, json_t **out,
		       struct cf_error *err)
{
	*out = NULL;
	cf_err e = CF_OK;
	json_t *answer = NULL;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	if (strlen(socket_path) >= sizeof addr.sun_path)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "the signer socket path %s is longer than %zu bytes", socket_path,
				    sizeof addr.sun_path - 1);
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return cf_error_set(err, CF_EIO, NULL, "cannot make a socket: %s", strerror(errno));
	struct timeval tv = { .tv_sec = SIGNERLINK_TIMEOUT };
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(fd, (struct sockaddr *)&addr, sizeof addr) != 0) {
		e = cf_error_set(err, CF_EUNAVAILABLE, NULL,
				 "cannot reach conform-signer at %s: %s (is it running?)", socket_path,
				 strerror(errno));
		goto out;
	}
	e = signerlink_send(fd, req, err);
	if (!e)
		e = signerlink_recv(fd, &answer, err);
	if (e)
		goto out;
	json_t *ok = json_object_get(answer, "ok");
	json_t *bad = json_object_get(answer, "error");
	if (json_is_object(ok)) {
		*out = json_incref(ok);
	} else if (json_is_object(bad)) {
		json_int_t code = json_integer_value(json_object_get(bad, "code"));
		const char *detail = json_string_value(json_object_get(bad, "detail"));
		if (code <= 0 || code >= CF_CODE_COUNT)
			code = CF_EINTERNAL;
		e = cf_error_set(err, (enum cf_code)code, NULL, "%s",
				 detail ? detail : "the signer failed without a reason");
	} else {
		e = cf_error_set(err, CF_EINTERNAL, NULL, "the signer answered neither ok nor error");
	}
out:
	json_decref(answer);
	close(fd);
	return e;
}
