/*
 * signerlink: the wire of conform-signer, the process that alone holds the
 * private signing keys. A message is a 4-byte big-endian length and that
 * many bytes of a JSON object, on a Unix socket: requests and answers
 * alternate, as many as the client sends before it closes (the signer ends
 * a connection idle for SIGNERLINK_TIMEOUT seconds). An answer is {"ok": {...}} or {"error": {"code": N,
 * "detail": "..."}} (N a cf_code). No answer ever carries a secret: keys are
 * made, used and destroyed inside the signer. docs/architecture.md lists the
 * operations.
 */
#ifndef CONFORM_SIGNERLINK_H
#define CONFORM_SIGNERLINK_H

#include <stddef.h>

#include <jansson.h>

#include "error.h"

/* The largest message either side accepts (a sign request carries the bytes
 * to sign, base64url: a certificate or a status list). */
#define SIGNERLINK_MAX (4u << 20)

/* Seconds a peer may take to send or read a message. */
#define SIGNERLINK_TIMEOUT 10

/* Writes msg (borrowed) as one frame to fd. CF_EIO on a broken peer,
 * CF_ETOOLARGE over SIGNERLINK_MAX. */
cf_err signerlink_send(int fd, const json_t *msg, struct cf_error *err) CF_MUST_CHECK;

/* Reads one frame from fd; *out is a new reference to its JSON object (NULL
 * on error). CF_EIO when the peer closes or times out, CF_ETOOLARGE over
 * SIGNERLINK_MAX, CF_EINVAL when it is not a JSON object. */
cf_err signerlink_recv(int fd, json_t **out, struct cf_error *err) CF_MUST_CHECK;

/*
 * Sends req (borrowed) to the signer listening at socket_path and reads its
 * answer. On success *out is a new reference to the "ok" object; a signer
 * error comes back as the same cf_code and detail; a signer that cannot be
 * reached is CF_EUNAVAILABLE naming the socket. On error *out is NULL.
 */
cf_err signerlink_call(const char *socket_path, const json_t *req, json_t **out,
		       struct cf_error *err) CF_MUST_CHECK;

/*
 * signerlink_call on a connection the calling thread keeps open for its next
 * calls (closed when the thread ends), so that a busy thread pays for one
 * connection, not one per request. A kept connection the signer has closed
 * meanwhile (idle, restarted) is replaced and the request sent once more:
 * for requests that may be repeated (a signature), not for ones that change
 * keys.
 */
cf_err signerlink_call_kept(const char *socket_path, const json_t *req, json_t **out,
			    struct cf_error *err) CF_MUST_CHECK;

#endif
