/*
 * ids: the shapes of identifiers that arrive as text (a UUID in a path, an
 * e-mail address, an http(s) URL), checked before they reach the database
 * or a document. Platform layer: knows no domain type, so conform-signer,
 * the surfaces and every domain module share it.
 */
#ifndef CONFORM_IDS_H
#define CONFORM_IDS_H

#include <stdbool.h>

/* True when s is a UUID in its 36-character text form (hex digits of either
 * case, dashes at 8, 13, 18 and 23), so that it can be given to PostgreSQL.
 * NULL is not one. */
bool ids_is_uuid(const char *s);

/* True when s looks like an e-mail address: one '@' with text on both sides
 * and no whitespace or angle brackets. Not NULL. */
bool ids_is_email(const char *s);

/* True when s is http:// or https:// followed by something. Not NULL. */
bool ids_is_http_url(const char *s);

#endif
