/*
 * certcache: conformd's cache of rendered GET /v1/certificates/{serial}
 * answers, so that a busy register is read from memory. A cached answer is
 * dropped when the certificate's status changes (NOTIFY conform_certificate),
 * all are dropped when an accreditation or a key changes (conform_flush), an
 * answer that says "not yet in a signed tree head" is not served once a
 * checkpoint covers it (conform_checkpoint), nor one past the moment it
 * goes stale by itself: the certificate's next scheduled change (validUntil,
 * an accreditation event effective later), a timed expiry checked when the
 * entry is read, so no scan and no polling. While the listening connection is down the cache is off: the answers
 * come from the database. Bounded by a byte budget, least recently used out.
 */
#ifndef CONFORM_CERTCACHE_H
#define CONFORM_CERTCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

struct server;

/* Sets the byte budget (0: no cache) and starts the listener of srv. */
void certcache_start(struct server *srv, size_t budget);
void certcache_stop(void);

/* A copy of the cached answer (caller frees), or NULL. Each call while the
 * cache is on counts as a hit or a miss. */
char *certcache_get(const char *serial, size_t *len);

/* Hits and misses of certcache_get since the start (for metrics). */
void certcache_stats(unsigned long *hits, unsigned long *misses);

/*
 * The invalidation generation: read it before reading the database, and
 * give it to certcache_put, which keeps nothing if an invalidation came in
 * between (the answer may predate it).
 */
unsigned long certcache_generation(void);

/* Caches an answer: log_index and in_head as it says, and stale_at_ms
 * (epoch milliseconds, 0 never) when it stops being true by itself. */
void certcache_put(const char *serial, const char *body, size_t len, long long log_index,
		   bool in_head, long long stale_at_ms, unsigned long generation);

/* Drops a certificate's answer now (after a change made by this process;
 * others learn of it by NOTIFY), or every answer. */
void certcache_invalidate(const char *serial);
void certcache_invalidate_all(void);

#endif
