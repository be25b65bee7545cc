/*
 * routes/system: liveness, readiness, metrics and the OpenAPI description.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "migrate.h"
#include "routes.h"
#include "server.h"
#include "workerdb.h"

extern const unsigned char conform_openapi_json[];
extern const size_t conform_openapi_json_len;

static const char health_body[] = "{\"status\":\"ok\"}";

void route_health(struct request *rq)
{
	reply_static(rq, 200, "application/json", health_body, sizeof health_body - 1);
}

void route_ready(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	int version = 0;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = migrate_current_version(db, &version, &err);
	if (e) {
		/* The cause (socket path, server message) is for the operator's log. */
		log_warn("not ready: %s", err.detail);
		reply_problem_msg(rq, CF_EUNAVAILABLE, "the database is not reachable");
		return;
	}
	int needed = migrate_required_version();
	if (version < needed) {
		reply_problem_msg(rq, CF_EUNAVAILABLE,
				  "the database schema is at version %d; this conformd needs %d "
				  "(run conformctl db migrate)",
				  version, needed);
		return;
	}
	const char *read_url = request_server(rq)->cfg->database_read_url;
	if (!read_url[0]) {
		reply_json(rq, 200, json_pack("{s:s,s:i}", "status", "ready", "schema_version", version));
		return;
	}
	/*
	 * With a read replica: still 200 when it is away or behind a migration,
	 * since every read then goes to the primary and the service is whole.
	 * A 503 would make the load balancer take every conformd out of
	 * rotation over a part they all do without; "degraded" is for the
	 * monitoring (and conform_replica_up in /metrics).
	 */
	const char *replica = "ok";
	int rversion = 0;
	struct db *rdb = NULL;
	bool standby = false;
	double lag = 0;
	e = workerdb_get_read(read_url, &rdb, &err);
	if (!e)
		e = migrate_current_version(rdb, &rversion, &err);
	if (!e)
		e = db_replay_lag(rdb, &standby, &lag, &err);
	if (e) {
		log_warn("the read replica is not reachable: %s", err.detail);
		replica = "unreachable";
	} else if (rversion < needed) {
		replica = "behind";
	}
	if (strcmp(replica, "ok") == 0) {
		workerdb_replica_ok();
	} else {
		workerdb_replica_failed();
	}
	json_t *body = json_pack("{s:s,s:i,s:s}", "status", strcmp(replica, "ok") == 0 ? "ready" :
				 "degraded", "schema_version", version, "replica", replica);
	if (strcmp(replica, "unreachable") != 0) {
		/* for the operator: not a standby means the read URL names a
		 * primary (allowed, but no replica) */
		json_object_set_new(body, "replica_standby", json_boolean(standby));
		json_object_set_new(body, "replica_lag_seconds", json_real(lag));
	}
	reply_json(rq, 200, body);
}

void route_metrics(struct request *rq)
{
	/* the client as everything else sees it: the peer, or behind a trusted
	 * proxy the address it forwarded for */
	const char *client = request_client(rq);
	if (!metrics_allowed(client)) {
		reply_problem_msg(rq, CF_EFORBIDDEN,
				  "%s may not read the metrics (CONFORM_METRICS_ALLOW)", client);
		return;
	}
	struct buf b;
	struct cf_error err;
	struct db *db = NULL;
	/* without the database, the process's own numbers still answer */
	if (request_db(rq, &db, &err)) {
		log_warn("metrics without the database: %s", err.detail);
		db = NULL;
	}
	buf_init(&b, 16u << 20);
	if (metrics_render(&b, request_server(rq), db, &err)) {
		buf_free(&b);
		reply_problem(rq, &err);
		return;
	}
	reply_bytes(rq, 200, "text/plain; version=0.0.4; charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

void route_openapi(struct request *rq)
{
	reply_static(rq, 200, "application/json", conform_openapi_json, conform_openapi_json_len);
}
