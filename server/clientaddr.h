/*
 * clientaddr: who is at the other end. The peer's address, or, when the peer
 * is one of the reverse proxies named in CONFORM_TRUSTED_PROXIES, the address
 * that proxy says it forwarded for: the nearest entry of X-Forwarded-For that
 * is not itself a trusted proxy. Anything a client writes into the header
 * beyond what the trusted proxies appended is never believed.
 */
#ifndef CONFORM_CLIENTADDR_H
#define CONFORM_CLIENTADDR_H

#include <stddef.h>
#include <sys/socket.h>

#include "error.h"

/* The most trusted proxies. */
#define CLIENTADDR_MAX_PROXIES 32

/* Room for any address in text, IPv6 included. */
#define CLIENTADDR_LEN 48

/* Sets the trusted proxies: IPv4 and IPv6 addresses separated by commas or
 * spaces ("" for none). Errors name the entry at fault. */
cf_err clientaddr_init(const char *trusted, struct cf_error *err) CF_MUST_CHECK;

/* The client's address in text ("unknown" when peer is NULL or not IP);
 * xff is the X-Forwarded-For header, or NULL. */
void clientaddr_of(const struct sockaddr *peer, const char *xff, char out[CLIENTADDR_LEN]);

#endif
