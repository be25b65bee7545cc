/*
 * workerdb: per-thread database connections (see workerdb.h). The registry
 * exists so that connections of finished threads are closed, not leaked.
 */
#include "workerdb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#include "log.h"
#include "mem.h"

struct slot {
	struct db *db;
	struct db *read_db; /* to the replica; NULL until first used */
	struct slot *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *registry;
static _Thread_local struct slot *mine;
static atomic_int open_count;

/* the replica: when it last failed (monotonic ms, 0 never or since
 * answered), and the counters for metrics */
static atomic_llong replica_failed_at;
static atomic_ulong replica_reads, replica_errors, replica_fallbacks;

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	/* never 0: 0 means "not failed" */
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 + 1;
}

int workerdb_open_count(void)
{
	return atomic_load(&open_count);
}

static struct slot *my_slot(void)
{
	if (!mine) {
		mine = cf_calloc(1, sizeof *mine);
		pthread_mutex_lock(&registry_lock);
		mine->next = registry;
		registry = mine;
		pthread_mutex_unlock(&registry_lock);
	}
	return mine;
}

/* The connection in *slot to conninfo: opened, or checked and re-opened. */
static cf_err get(struct db **slot, const char *conninfo, struct db **out, struct cf_error *err)
{
	*out = NULL;
	if (*slot) {
		cf_err e = db_ensure(*slot, err);
		if (e)
			return e;
		*out = *slot;
		return CF_OK;
	}
	cf_err e = db_connect(conninfo, slot, err);
	if (e)
		return e;
	atomic_fetch_add(&open_count, 1);
	*out = *slot;
	return CF_OK;
}

cf_err workerdb_get(const char *conninfo, struct db **out, struct cf_error *err)
{
	return get(&my_slot()->db, conninfo, out, err);
}

cf_err workerdb_get_read(const char *conninfo, struct db **out, struct cf_error *err)
{
	cf_err e = get(&my_slot()->read_db, conninfo, out, err);
	if (e)
		workerdb_replica_failed();
	return e;
}

void workerdb_count_replica_read(void)
{
	atomic_fetch_add(&replica_reads, 1);
}

bool workerdb_replica_usable(void)
{
	long long at = atomic_load(&replica_failed_at);
	return at == 0 || now_ms() - at >= WORKERDB_REPLICA_BACKOFF_MS;
}

void workerdb_replica_failed(void)
{
	atomic_fetch_add(&replica_errors, 1);
	/* said once per outage, not once per request */
	if (atomic_exchange(&replica_failed_at, now_ms()) == 0)
		log_warn("the read replica failed: reads go to the primary until it answers again "
			 "(GET /v1/ready says degraded)");
}

void workerdb_replica_ok(void)
{
	if (atomic_load(&replica_failed_at) != 0 && atomic_exchange(&replica_failed_at, 0) != 0)
		log_info("the read replica answers again");
}

void workerdb_count_fallback(void)
{
	atomic_fetch_add(&replica_fallbacks, 1);
}

void workerdb_replica_stats(unsigned long *reads, unsigned long *errors, unsigned long *fallbacks,
			    int *up)
{
	*reads = atomic_load(&replica_reads);
	*errors = atomic_load(&replica_errors);
	*fallbacks = atomic_load(&replica_fallbacks);
	*up = atomic_load(&replica_failed_at) == 0;
}

void workerdb_close_all(void)
{
	pthread_mutex_lock(&registry_lock);
	struct slot *s = registry;
	registry = NULL;
	pthread_mutex_unlock(&registry_lock);
	while (s) {
		struct slot *next = s->next;
		if (s->db)
			atomic_fetch_sub(&open_count, 1);
		if (s->read_db)
			atomic_fetch_sub(&open_count, 1);
		db_close(s->db);
		db_close(s->read_db);
		free(s);
		s = next;
	}
	mine = NULL;
	atomic_store(&open_count, 0);
}
