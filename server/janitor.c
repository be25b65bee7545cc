/*
 * janitor: the evidence janitor thread (see janitor.h). Its first run is
 * one interval after the start, so that a restart loop does not make it run
 * in a tight loop.
 */
#include "janitor.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "evidence.h"
#include "log.h"
#include "server.h"
#include "workerdb.h"

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool running, stopping;

static void clean_once(struct server *srv)
{
	struct cf_error err;
	struct db *db = NULL;
	struct evidence_gc_result r;
	const struct audit_actor actor = { "system", "janitor", NULL };
	if (workerdb_get(srv->runtime_conninfo, &db, &err))
		return; /* readiness reports the database; nothing to add */
	if (evidence_gc(db, &actor, srv->blob_root, srv->cfg->evidence_grace, &r, &err))
		log_error("evidence janitor: %s", err.detail);
	else if (r.removed || r.tmp_removed)
		log_info("evidence janitor: removed %lld unreferenced files (%llu bytes) and %d abandoned "
			 "uploads; kept %lld", r.removed, r.bytes, r.tmp_removed, r.kept);
}

static void *run(void *arg)
{
	struct server *srv = arg;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += srv->cfg->janitor_interval;
		while (!stopping && pthread_cond_timedwait(&wake, &lock, &until) == 0)
			;
		if (stopping)
			break;
		pthread_mutex_unlock(&lock);
		clean_once(srv);
		pthread_mutex_lock(&lock);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

void janitor_start(struct server *srv)
{
	stopping = false;
	running = false;
	if (srv->cfg->janitor_interval <= 0)
		return;
	running = pthread_create(&thread, NULL, run, srv) == 0;
	if (!running)
		log_error("cannot start the evidence janitor thread");
}

void janitor_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&lock);
	stopping = true;
	pthread_cond_signal(&wake);
	pthread_mutex_unlock(&lock);
	pthread_join(thread, NULL);
	running = false;
}
