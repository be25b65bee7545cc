/*
 * certcache: the certificate answer cache and its invalidation listener
 * (see certcache.h). Entries live in shards, each with its own lock, hash
 * chains and LRU list, so that worker threads rarely wait for each other.
 */
#include "certcache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "channels.h"
#include "db.h"
#include "log.h"
#include "mem.h"
#include "livestate.h"
#include "server.h"
#include "tlog.h"

#define SHARDS 64
#define BUCKETS 4096 /* per shard */

struct entry {
	char *serial;
	char *body;
	size_t len;
	long long log_index;
	bool in_head;
	long long stale_at_ms; /* the certificate's next scheduled change; 0 never */
	char *facts;           /* for verification */
	unsigned char jws_sha256[32];
	long long checked_at;  /* the tree size its inclusion was checked at; -1 not yet */
	bool included;
	long long tree_size;
	struct entry *chain;          /* hash bucket */
	struct entry *prev, *next;    /* LRU, most recent first */
};

struct shard {
	pthread_mutex_t lock;
	struct entry *buckets[BUCKETS];
	struct entry *head, *tail;
	size_t bytes;
};

static struct shard shards[SHARDS];
static size_t shard_budget;
static atomic_bool enabled;
static atomic_llong checkpoint_size;
static atomic_ulong generation;
static atomic_ulong hits, misses;

void certcache_stats(unsigned long *h, unsigned long *m)
{
	*h = atomic_load(&hits);
	*m = atomic_load(&misses);
}

unsigned long certcache_generation(void)
{
	return atomic_load(&generation);
}

static pthread_t listener;
static atomic_bool listening, stopping;

/* The wall clock in epoch milliseconds, the unit of stale_at_ms. */
static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned long hash(const char *s)
{
	unsigned long h = 1469598103934665603UL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211UL;
	return h;
}

static size_t cost(const struct entry *e)
{
	return e->len + strlen(e->serial) + strlen(e->facts) + sizeof *e;
}

static void lru_unlink(struct shard *s, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		s->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		s->tail = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push(struct shard *s, struct entry *e)
{
	e->prev = NULL;
	e->next = s->head;
	if (s->head)
		s->head->prev = e;
	s->head = e;
	if (!s->tail)
		s->tail = e;
}

/* Removes e from s and frees it. Caller holds s->lock. */
static void drop(struct shard *s, struct entry *e, unsigned long h)
{
	struct entry **p = &s->buckets[(h / SHARDS) % BUCKETS];
	while (*p && *p != e)
		p = &(*p)->chain;
	if (*p)
		*p = e->chain;
	lru_unlink(s, e);
	s->bytes -= cost(e);
	free(e->serial);
	free(e->body);
	free(e->facts);
	free(e);
}

static struct entry *find(struct shard *s, const char *serial, unsigned long h)
{
	for (struct entry *e = s->buckets[(h / SHARDS) % BUCKETS]; e; e = e->chain)
		if (strcmp(e->serial, serial) == 0)
			return e;
	return NULL;
}

/* The live entry of serial, or NULL (a stale one is dropped). Caller holds
 * s->lock. */
static struct entry *lookup(struct shard *s, const char *serial, unsigned long h)
{
	struct entry *e = find(s, serial, h);
	if (!e)
		return NULL;
	bool stale = (!e->in_head && e->log_index < atomic_load(&checkpoint_size)) ||
		     (e->stale_at_ms && now_ms() >= e->stale_at_ms);
	if (stale) {
		drop(s, e, h);
		return NULL;
	}
	lru_unlink(s, e);
	lru_push(s, e);
	return e;
}

char *certcache_get(const char *serial, size_t *len)
{
	if (!atomic_load_explicit(&enabled, memory_order_relaxed))
		return NULL;
	unsigned long h = hash(serial);
	struct shard *s = &shards[h % SHARDS];
	char *copy = NULL;
	pthread_mutex_lock(&s->lock);
	struct entry *e = lookup(s, serial, h);
	if (e) {
		copy = cf_malloc(e->len);
		memcpy(copy, e->body, e->len);
		*len = e->len;
	}
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add_explicit(copy ? &hits : &misses, 1, memory_order_relaxed);
	return copy;
}

bool certcache_get_facts(const char *serial, struct certcache_facts *out)
{
	if (!atomic_load_explicit(&enabled, memory_order_relaxed))
		return false;
	unsigned long h = hash(serial);
	struct shard *s = &shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	struct entry *e = lookup(s, serial, h);
	if (e) {
		out->facts = cf_strdup(e->facts);
		memcpy(out->jws_sha256, e->jws_sha256, 32);
		out->log_index = e->log_index;
		out->inclusion_known = e->checked_at >= 0 && e->checked_at == atomic_load(&checkpoint_size);
		out->included = e->included;
		out->tree_size = e->tree_size;
	}
	pthread_mutex_unlock(&s->lock);
	atomic_fetch_add_explicit(e ? &hits : &misses, 1, memory_order_relaxed);
	return e != NULL;
}

void certcache_set_inclusion(const char *serial, long long checked_at, bool included,
			     long long tree_size)
{
	unsigned long h = hash(serial);
	struct shard *s = &shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	struct entry *e = find(s, serial, h);
	if (e) {
		e->checked_at = checked_at;
		e->included = included;
		e->tree_size = tree_size;
	}
	pthread_mutex_unlock(&s->lock);
}

long long certcache_checkpoint(void)
{
	return atomic_load(&checkpoint_size);
}

void certcache_put(const char *serial, const char *body, size_t len, const char *facts,
		   const unsigned char jws_sha256[32], long long log_index, bool in_head,
		   long long stale_at_ms, unsigned long gen)
{
	if (!atomic_load(&enabled) || !shard_budget)
		return;
	unsigned long h = hash(serial);
	struct shard *s = &shards[h % SHARDS];
	struct entry *e = cf_calloc(1, sizeof *e);
	e->serial = cf_strdup(serial);
	e->body = cf_malloc(len);
	memcpy(e->body, body, len);
	e->len = len;
	e->log_index = log_index;
	e->in_head = in_head;
	e->stale_at_ms = stale_at_ms;
	e->facts = cf_strdup(facts);
	memcpy(e->jws_sha256, jws_sha256, 32);
	e->checked_at = -1;
	pthread_mutex_lock(&s->lock);
	struct entry *old = find(s, serial, h);
	if (old)
		drop(s, old, h);
	e->chain = s->buckets[(h / SHARDS) % BUCKETS];
	s->buckets[(h / SHARDS) % BUCKETS] = e;
	lru_push(s, e);
	s->bytes += cost(e);
	/* checked under the lock that an eviction also takes: an invalidation
	 * after the answer was read from the database wins */
	if (atomic_load(&generation) != gen) {
		drop(s, e, h);
		pthread_mutex_unlock(&s->lock);
		return;
	}
	while (s->bytes > shard_budget && s->tail && s->tail != e)
		drop(s, s->tail, hash(s->tail->serial));
	pthread_mutex_unlock(&s->lock);
}

static void evict(const char *serial)
{
	unsigned long h = hash(serial);
	struct shard *s = &shards[h % SHARDS];
	pthread_mutex_lock(&s->lock);
	struct entry *e = find(s, serial, h);
	if (e)
		drop(s, e, h);
	pthread_mutex_unlock(&s->lock);
}

static void flush(void)
{
	for (int i = 0; i < SHARDS; i++) {
		struct shard *s = &shards[i];
		pthread_mutex_lock(&s->lock);
		while (s->head)
			drop(s, s->head, hash(s->head->serial));
		pthread_mutex_unlock(&s->lock);
	}
}

static void on_notify(const char *channel, const char *payload, void *arg)
{
	bool *reload = arg;
	if (strcmp(channel, CHANNEL_CERTIFICATE) == 0) {
		atomic_fetch_add(&generation, 1);
		evict(payload);
	} else if (strcmp(channel, CHANNEL_CHECKPOINT) == 0) {
		atomic_fetch_add(&generation, 1);
		atomic_store(&checkpoint_size, strtoll(payload, NULL, 10)); /* atol is undefined past LONG_MAX */
	} else {
		/* a key or an accreditation: what is held is stale now, and the
		 * answers made with it go at once; until it is loaded again
		 * (after this batch) the database decides and nothing is kept */
		livestate_off();
		atomic_fetch_add(&generation, 1);
		flush();
		*reload = true;
	}
}

/* Keeps a LISTEN connection; the cache is on only while it is up. */
static void *listen_loop(void *arg)
{
	struct server *srv = arg;
	static const char *const channels[] = CHANNELS_ALL;
	while (!atomic_load(&stopping)) {
		struct cf_error err;
		struct db *db = NULL;
		long long size = 0;
		if (db_connect(srv->runtime_conninfo, &db, &err) || db_listen(db, channels, &err) ||
		    tlog_signed_size(db, &size, &err) || livestate_load(db, &err)) {
			db_close(db);
			for (int i = 0; i < 10 && !atomic_load(&stopping); i++)
				usleep(100000);
			continue;
		}
		atomic_store(&checkpoint_size, size);
		/* whatever happened while nobody listened is unknown: start empty */
		atomic_fetch_add(&generation, 1);
		flush();
		atomic_store(&enabled, shard_budget > 0);
		while (!atomic_load(&stopping)) {
			bool reload = false;
			if (db_wait_notifications(db, 200, on_notify, &reload, &err))
				break;
			/* a change committed here is loaded even if no notification
			 * names it */
			if (!reload && livestate_current())
				continue;
			/* a miss that read before the notification is not kept (the
			 * generation moved after it read); one while nothing was
			 * current asked the database and kept nothing */
			if (livestate_load(db, &err))
				break;
			atomic_fetch_add(&generation, 1);
			flush();
		}
		atomic_store(&enabled, false);
		livestate_off();
		flush();
		db_close(db);
		if (!atomic_load(&stopping))
			log_warn("the certificate cache is off until its listening connection is back");
	}
	return NULL;
}

void certcache_invalidate(const char *serial)
{
	atomic_fetch_add(&generation, 1);
	evict(serial);
}

void certcache_invalidate_all(void)
{
	livestate_changed_here();
	atomic_fetch_add(&generation, 1);
	flush();
}

void certcache_start(struct server *srv, size_t budget)
{
	for (int i = 0; i < SHARDS; i++)
		pthread_mutex_init(&shards[i].lock, NULL);
	shard_budget = budget / SHARDS;
	atomic_store(&stopping, false);
	atomic_store(&enabled, false);
	if (!budget)
		return;
	atomic_store(&listening, pthread_create(&listener, NULL, listen_loop, srv) == 0);
}

void certcache_stop(void)
{
	atomic_store(&stopping, true);
	if (atomic_exchange(&listening, false))
		pthread_join(listener, NULL);
	atomic_store(&enabled, false);
	flush();
}
