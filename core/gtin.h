/*
 * gtin: GS1 Global Trade Item Numbers and what the register knows of them
 * (the shelf check and the GS1 Digital Link resolver, issue 15).
 *
 * A GTIN-8, -12, -13 or -14 is normalised to 14 digits (zeros on the left)
 * and its check digit verified by digitallink_gtin14, as GS1 Digital Link's
 * /01/ key requires.
 * Products store the GTIN as entered (8 to 14 digits); lookups compare the
 * normalised forms (migration 0024 indexes the product snapshot's one).
 */
#ifndef CONFORM_GTIN_H
#define CONFORM_GTIN_H

#include <jansson.h>

#include "buf.h"
#include "db.h"
#include "error.h"

#define GTIN_LEN 14

/* The certificates of a normalised GTIN, oldest first, as an array of
 * {"serial","status","scheme_id","scheme_version","valid_from","valid_until",
 * "product"} (status: valid, suspended, withdrawn, superseded, expired,
 * key_compromised).
 * *out is the caller's. */
cf_err gtin_certificates(struct db *db, const char *gtin14, json_t **out,
			 struct cf_error *err) CF_MUST_CHECK;

/* The shelf check of inputs[0 .. count) (GTINs as given; NULL for an item
 * that was not a string). Appends one JSON line per item to out, in order:
 * {"gtin": as given, "gtin14", "status", "certificates":[{"serial","status",
 * "scheme","valid_until"}]} where status is certified (a valid certificate),
 * else suspended, expired, superseded, withdrawn (the most hopeful of its
 * certificates), or none; or {"gtin", "error": why} for a bad one. One query
 * for the page: memory follows count, not the whole list. */
cf_err gtin_shelf_page(struct db *db, const char *const *inputs, size_t count, struct buf *out,
		       struct cf_error *err) CF_MUST_CHECK;

#endif
