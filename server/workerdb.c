/*
 * workerdb: per-thread database connections (see workerdb.h). The registry
 * exists so that connections of finished threads are closed, not leaked.
 */
#include "workerdb.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "mem.h"

struct slot {
	struct db *db;
	struct slot *next;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot *registry;
static _Thread_local struct slot *mine;
static atomic_int open_count;

int workerdb_open_count(void)
{
	return atomic_load(&open_count);
}

cf_err workerdb_get(const char *conninfo, struct db **out, struct cf_error *err)
{
	*out = NULL;
	if (mine && mine->db) {
		cf_err e = db_ensure(mine->db, err);
		if (e)
			return e;
		*out = mine->db;
		return CF_OK;
	}
	if (!mine) {
		mine = cf_calloc(1, sizeof *mine);
		pthread_mutex_lock(&registry_lock);
		mine->next = registry;
		registry = mine;
		pthread_mutex_unlock(&registry_lock);
	}
	cf_err e = db_connect(conninfo, &mine->db, err);
	if (e)
		return e;
	atomic_fetch_add(&open_count, 1);
	*out = mine->db;
	return CF_OK;
}

void workerdb_close_all(void)
{
	pthread_mutex_lock(&registry_lock);
	struct slot *s = registry;
	registry = NULL;
	pthread_mutex_unlock(&registry_lock);
	while (s) {
		struct slot *next = s->next;
		db_close(s->db);
		free(s);
		s = next;
	}
	mine = NULL;
	atomic_store(&open_count, 0);
}
