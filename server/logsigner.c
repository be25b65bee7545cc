/*
 * logsigner: the checkpoint signing thread (see logsigner.h).
 */
#include "logsigner.h"

#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "server.h"
#include "signer.h"
#include "tlog.h"
#include "workerdb.h"

static pthread_t thread;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static bool running, stopping;

static void sign_once(struct server *srv, bool *warned)
{
	struct cf_error err;
	struct db *db = NULL;
	char kid[SIGNER_KID_LEN], origin[256];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	bool made = false;
	if (workerdb_get(srv->runtime_conninfo, &db, &err))
		return; /* readiness reports the database; nothing to add */
	if (signer_current(db, NULL, kid, pub, &err) ||
	    signer_private(db, kid, srv->signer_socket, &key, &err)) {
		if (!*warned)
			log_warn("the transparency log is not signed: %s", err.detail);
		*warned = true;
		return;
	}
	*warned = false;
	tlog_origin(srv->cfg->public_url, origin, sizeof origin);
	if (tlog_sign_checkpoint(db, key, kid, origin, &made, &err))
		log_error("signing a checkpoint: %s", err.detail);
	else if (made)
		log_debug("signed a new checkpoint of the log");
}

static void *run(void *arg)
{
	struct server *srv = arg;
	bool warned = false;
	pthread_mutex_lock(&lock);
	while (!stopping) {
		pthread_mutex_unlock(&lock);
		sign_once(srv, &warned);
		pthread_mutex_lock(&lock);
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += 500 * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		if (!stopping)
			pthread_cond_timedwait(&wake, &lock, &until);
	}
	pthread_mutex_unlock(&lock);
	return NULL;
}

void logsigner_start(struct server *srv)
{
	stopping = false;
	running = pthread_create(&thread, NULL, run, srv) == 0;
	if (!running)
		log_error("cannot start the log signing thread");
}

void logsigner_stop(void)
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
