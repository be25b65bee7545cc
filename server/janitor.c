/*
 * janitor: the evidence janitor thread (see janitor.h). Its first run is
 * one interval after the start, so that a restart loop does not make it run
 * in a tight loop.
 */
#include "janitor.h"

#include <stdbool.h>
#include <time.h>

#include "evidence.h"
#include "log.h"
#include "server.h"
#include "workerdb.h"
#include "ticker.h"

static struct ticker ticker = TICKER_INIT;

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
	while (ticker_sleep(&ticker, srv->cfg->janitor_interval * 1000L))
		clean_once(srv);
	return NULL;
}

void janitor_start(struct server *srv)
{
	if (srv->cfg->janitor_interval > 0)
		ticker_start(&ticker, 1, run, srv, "evidence janitor");
}

void janitor_stop(void)
{
	ticker_stop(&ticker);
}
