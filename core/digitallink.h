/*
 * digitallink: GS1 Digital Link URIs (GS1 Digital Link standard 1.2) for a
 * product's GTIN on conform's public host: "<public URL>/01/<GTIN-14>". The
 * QR label (GET /v1/certificates/{serial}/qr.svg) encodes it and the
 * resolver (GET /01/{gtin}) answers it, so both build it here. Knows no
 * domain type.
 */
#ifndef CONFORM_DIGITALLINK_H
#define CONFORM_DIGITALLINK_H

#include "error.h"

/*
 * The GTIN-14 form of gtin (GTIN-8, -12, -13 or -14: all digits, left-padded
 * with zeros to 14) in out, after checking its GS1 check digit. CF_EINVAL
 * naming the problem (length, a non-digit, the check digit expected) when
 * it is not a GTIN; out is then the empty string.
 */
cf_err digitallink_gtin14(const char *gtin, char out[15], struct cf_error *err) CF_MUST_CHECK;

/*
 * The Digital Link URI of gtin on public_url (its trailing '/' ignored) in
 * *out (caller frees): "<public_url>/01/<GTIN-14>". Fails as
 * digitallink_gtin14 and *out stays NULL.
 */
cf_err digitallink_uri(const char *public_url, const char *gtin, char **out,
		       struct cf_error *err) CF_MUST_CHECK;

#endif
