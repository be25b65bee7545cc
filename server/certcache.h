/*
 * certcache: conformd's cache of rendered GET /v1/certificates/{serial}
 * answers, so that a busy register is read from memory. A cached answer is
 * dropped when the certificate's status changes (NOTIFY conform_certificate),
 * all are dropped when an accreditation or a key changes (conform_flush), an
 * answer that says "not yet in a signed tree head" is not served once a
 * checkpoint covers it (conform_checkpoint), nor one past the moment it
 * goes stale by itself: the certificate's next scheduled change (validUntil,
 * an accreditation event effective later), a timed expiry checked when the
 * entry is read, so no scan and no polling. The same listener keeps the keys
 * and accreditation events of livestate.h current. While the listening
 * connection is down the cache is off: the answers come from the database.
 * Bounded by a byte budget, least recently used out.
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

/* What a cached certificate gives verification (POST /v1/verify). */
struct certcache_facts {
	char *facts;                    /* certificate_render's facts (caller frees) */
	unsigned char jws_sha256[32];
	long long log_index;
	bool inclusion_known;           /* checked against the latest signed tree head */
	bool included;
	long long tree_size;
};

/* Caches an answer: log_index and in_head as it says, and stale_at_ms
 * (epoch milliseconds, 0 never) when it stops being true by itself; facts
 * (NUL-terminated) and jws_sha256 for verification. */
void certcache_put(const char *serial, const char *body, size_t len, const char *facts,
		   const unsigned char jws_sha256[32], long long log_index, bool in_head,
		   long long stale_at_ms, unsigned long generation);

/* The facts of a cached certificate (a hit or a miss, as certcache_get). */
bool certcache_get_facts(const char *serial, struct certcache_facts *out);

/* Records the outcome of checking the inclusion of a cached certificate's log
 * entry against the signed tree head of size checked_at (the size
 * certcache_checkpoint gave before the check). */
void certcache_set_inclusion(const char *serial, long long checked_at, bool included,
			     long long tree_size);

/* The size of the latest signed tree head, as the listener last heard. */
long long certcache_checkpoint(void);

/* Drops a certificate's answer now (after a change made by this process;
 * others learn of it by NOTIFY), or every answer (after this process changed
 * a key or an accreditation: what livestate holds is then not used until the
 * listener has loaded it again). */
void certcache_invalidate(const char *serial);
void certcache_invalidate_all(void);

#endif
