/*
 * tcert: what the integration suites ask of an issued certificate, on every
 * surface a verifier uses: its record, its compact JWS and the payload it
 * signs, POST /v1/verify, conformctl cert verify, and its bit in its body's
 * status lists. Each helper asserts what it needs (the test fails when the
 * service does not answer as a working conformd does).
 */
#ifndef CONFORM_TCERT_H
#define CONFORM_TCERT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "testsrv.h"
#include "world.h"

/* GET /v1/certificates/serial (200): the record, new reference. */
json_t *tcert_get(const struct testsrv *s, const char *serial);

/* The certificate's compact JWS as served (new string). */
char *tcert_jws(const struct testsrv *s, const char *serial);

/* Parses a compact JWS of at most max_len bytes and returns its payload as
 * JSON (new reference); its protected header (new reference) in *header
 * when header is not NULL. */
json_t *tcert_jws_payload(const char *compact, size_t max_len, json_t **header);

/* The payload of the certificate's JWS as served (new reference). */
json_t *tcert_payload(const struct testsrv *s, const char *serial);

/* POST /v1/verify of jws (200): the answer, new reference. */
json_t *tcert_verify_jws(const struct testsrv *s, const char *jws);

/* POST /v1/verify of the certificate's stored JWS: the answer. */
json_t *tcert_verify(const struct testsrv *s, const char *serial);

/* conformctl cert verify of the certificate's JWS (kept as an artifact)
 * against jwks (a file or a URL, whose live status it also asks): the exit
 * status; stdout and stderr in *out (new string). */
int tcert_ctl_verify(struct world *w, const char *serial, const char *jwks, char **out);

/* The status list credential that the certificate's credentialStatus entry
 * of purpose points to, as s serves it: its payload (new reference), its
 * protected header (new reference) in *header when header is not NULL, and
 * the certificate's index in it in *index. */
json_t *tcert_status_list(const struct testsrv *s, const char *serial, const char *purpose,
			  unsigned *index, json_t **header);

/* Whether bit index of a status list credential's encodedList is set. */
bool tcert_list_bit(const json_t *list, unsigned index);

/* Whether the certificate's bit is set in its body's status list of purpose,
 * as s serves it. */
bool tcert_listed(const struct testsrv *s, const char *serial, const char *purpose);

/* Runs conformctl demo beside w's conformd (with its signer and data
 * directory, and CONFORM_PUBLIC_URL=public_url unless that is NULL); asserts
 * that it succeeds and names a page under page ("/verify/" when NULL); the
 * serial of that page in serial. */
void tcert_demo(struct world *w, const char *public_url, const char *page, char serial[40]);

#endif
