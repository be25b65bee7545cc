/*
 * logsigner: the checkpoint signing thread (see logsigner.h).
 */
#include "logsigner.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "cosigning.h"
#include "db.h"
#include "log.h"
#include "server.h"
#include "signer.h"
#include "tlog.h"
#include "ticker.h"

#define LOCK_NAME "conform.logsigner"

static struct ticker ticker = TICKER_INIT;
static atomic_bool holding;

/* The signing thread's own state: its connection, which holds the lock. */
struct signing {
	struct server *srv;
	struct db *db;     /* never re-established in place: a new session holds no lock */
	bool warned;       /* the key problem was said */
	time_t pause_until; /* after a failed signature: the lock is left to the others */
};

/* A holder whose signature failed (its conform-signer away, say) leaves the
 * lock to another instance for this long. */
#define FAILED_SIGNING_PAUSE_S 5

bool logsigner_holding(void)
{
	return atomic_load(&holding);
}

/* Gives up the connection, and with its session the lock. */
static void let_go(struct signing *s, const char *why)
{
	db_close(s->db);
	s->db = NULL;
	if (atomic_exchange(&holding, false))
		log_warn("this conformd no longer signs the log's checkpoints (%s); another conformd "
			 "of the database takes over", why);
}

/* Takes the lock if it is free: true when this process holds it. */
static bool take(struct signing *s)
{
	struct cf_error err;
	if (atomic_load(&holding))
		return true;
	if (time(NULL) < s->pause_until)
		return false;
	bool got = false;
	if (db_try_session_lock(s->db, LOCK_NAME, &got, &err)) {
		let_go(s, "its database session failed");
		return false;
	}
	if (got) {
		atomic_store(&holding, true);
		log_info("this conformd signs the log's checkpoints (it holds the lock %s)", LOCK_NAME);
	}
	return got;
}

static void sign_once(struct signing *s)
{
	struct cf_error err;
	char kid[SIGNER_KID_LEN], origin[256];
	unsigned char pub[32];
	const struct keys_private *key = NULL;
	bool made = false;
	/* the key first: an instance that cannot sign leaves the lock to one
	 * that can */
	if (!s->db && db_connect(s->srv->runtime_conninfo, &s->db, &err))
		return; /* readiness reports the database; nothing to add */
	cf_err e = signer_current(s->db, NULL, kid, pub, &err);
	if (!e)
		e = signer_private(s->db, kid, s->srv->signer_socket, &key, &err);
	if (e && !db_alive(s->db)) {
		/* the session, and the lock with it, is gone: start again */
		let_go(s, "its database session ended");
		return;
	}
	if (e) {
		if (!s->warned)
			log_warn("the transparency log is not signed: %s", err.detail);
		s->warned = true;
		if (atomic_load(&holding))
			let_go(s, "it cannot use the log key");
		return;
	}
	s->warned = false;
	if (!take(s))
		return;
	tlog_origin(s->srv->cfg->public_url, origin, sizeof origin);
	e = tlog_sign_checkpoint(s->db, key, kid, origin, &made, &err);
	if (e && !db_alive(s->db)) {
		let_go(s, "its database session ended");
	} else if (e) {
		log_error("signing a checkpoint: %s", err.detail);
		s->pause_until = time(NULL) + FAILED_SIGNING_PAUSE_S;
		let_go(s, "it could not sign");
	} else if (made) {
		log_debug("signed a new checkpoint of the log");
		cosigning_wake(); /* the witnesses hear of it now, not at their next poll */
	}
}

static void *run(void *arg)
{
	struct signing s = { arg, NULL, false, 0 };
	while (!ticker_stopping(&ticker)) {
		sign_once(&s);
		/* the holder looks for growth twice a second; the others try
		 * the lock once a second */
		if (!ticker_sleep(&ticker, atomic_load(&holding) ? 500 : LOGSIGNER_RETRY_MS))
			break;
	}
	/* a clean stop hands the lock on at once */
	db_close(s.db);
	atomic_store(&holding, false);
	return NULL;
}

void logsigner_start(struct server *srv)
{
	ticker_start(&ticker, 1, run, srv, "log signing");
}

void logsigner_stop(void)
{
	ticker_stop(&ticker);
}
