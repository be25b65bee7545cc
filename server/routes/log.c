/*
 * routes/log: the transparency log for auditors, monitors and witnesses:
 * the signed tree head (JSON, and as a C2SP checkpoint), the verifier key,
 * entries, inclusion and consistency proofs; and the same log as C2SP
 * tlog-tiles (the checkpoint, tiles and entry bundles) under /log/.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cosigning.h"
#include "http.h"
#include "keys.h"
#include "mem.h"
#include "note.h"
#include "routes.h"
#include "server.h"
#include "signer.h"
#include "tiles.h"
#include "tlog.h"
#include "witness.h"

/* The tree head, and who cosigned it: {witnessed, quorum, cosigners}
 * (core/witness.h) next to tlog_tree_head's members. */
static cf_err tree_head(struct request *rq, struct db *db, const json_t *body, json_t **out,
			struct cf_error *err)
{
	(void)rq;
	(void)body;
	json_t *status = NULL;
	cf_err e = tlog_tree_head(db, out, err);
	if (!e)
		e = witness_status(db, cosigning_witnesses(),
				   (long long)json_integer_value(json_object_get(*out, "size")), &status, err);
	if (e) {
		json_decref(*out);
		*out = NULL;
		return e;
	}
	json_object_update(*out, status);
	json_decref(status);
	return CF_OK;
}

void route_log_tree_head(struct request *rq)
{
	request_run(rq, tree_head, 200);
}

void route_log_checkpoint(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	char *note = NULL;
	/* ?witnessed=1: the latest checkpoint that the witness policy (k of n)
	 * counts as witnessed, with its cosignatures */
	long witnessed = 0;
	long long size = 0;
	cf_err e = request_query_int(rq, "witnessed", 0, 0, 1, &witnessed, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e && witnessed) {
		e = witness_latest_witnessed(db, cosigning_witnesses(), &size, &err);
		if (!e && size == 0)
			e = cf_error_set(&err, CF_ENOTFOUND, NULL,
					 cosigning_witnesses()->n
						 ? "no checkpoint of the log is witnessed yet"
						 : "this log has no witnesses configured (witnesses-file)");
		if (!e)
			e = tlog_cosigned_note(db, size, &note, &err);
	} else if (!e) {
		e = tlog_checkpoint_note(db, &note, &err);
	}
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	reply_bytes(rq, 200, "text/plain; charset=utf-8", note, strlen(note));
	free(note);
}

void route_log_vkey(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	char kid[SIGNER_KID_LEN], origin[256];
	unsigned char pub[32];
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = signer_current(db, NULL, kid, pub, &err);
	if (e == CF_EUNPROCESSABLE) /* no log key: the service is not set up yet, not a bad request */
		e = cf_error_set(&err, CF_EUNAVAILABLE, NULL, "the log has no verifier key yet: the service "
				 "has no log key (its operator runs conformctl key generate --log)");
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	tlog_origin(request_server(rq)->cfg->public_url, origin, sizeof origin);
	char *vkey = note_vkey(origin, pub);
	char *text = cf_asprintf("%s\n", vkey);
	reply_bytes(rq, 200, "text/plain; charset=utf-8", text, strlen(text));
	free(text);
	free(vkey);
}

void route_log_entries(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	long start = 0, end = 0;
	cf_err e = request_query_int(rq, "start", 0, 0, LONG_MAX, &start, &err);
	/* start + 100 overflows near LONG_MAX (undefined behaviour): the
	 * default end stops at LONG_MAX, and tlog_entries refuses end <= start */
	if (!e)
		e = request_query_int(rq, "end", start > LONG_MAX - 100 ? LONG_MAX : start + 100, 1,
				      LONG_MAX, &end, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = tlog_entries(db, start, end, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_log_inclusion(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	long index = 0, size = 0;
	const char *serial = request_query(rq, "serial");
	cf_err e = request_query_int(rq, "tree_size", 0, 0, 0x7fffffffffffffffL, &size, &err);
	if (!e && !serial && !request_query(rq, "index"))
		e = cf_error_set(&err, CF_EINVAL, NULL, "give serial or index");
	if (!e && !serial)
		e = request_query_int(rq, "index", 0, 0, 0x7fffffffffffffffL, &index, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = tlog_inclusion(db, serial, index, size, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

void route_log_consistency(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *out = NULL;
	long first = 0, second = 0;
	cf_err e = CF_OK;
	if (!request_query(rq, "first") || !request_query(rq, "second"))
		e = cf_error_set(&err, CF_EINVAL, NULL, "give first and second tree sizes");
	if (!e)
		e = request_query_int(rq, "first", 0, 1, 0x7fffffffffffffffL, &first, &err);
	if (!e)
		e = request_query_int(rq, "second", 0, 1, 0x7fffffffffffffffL, &second, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = tlog_consistency(db, first, second, &out, &err);
	reply_outcome(rq, e, &err, 200, out);
}

/* The C2SP tlog-tiles checkpoint: the very answer of /v1/log/checkpoint
 * (whatever that note carries, cosignatures included), never cached for
 * long since it moves. */
void route_tiles_checkpoint(struct request *rq)
{
	reply_header(rq, "Cache-Control", "no-cache");
	route_log_checkpoint(rq);
}

/* A tile or an entry bundle: only once the latest checkpoint covers it, so
 * that everything served agrees with a signed head. A full one never
 * changes; a partial one is dropped once its full tile exists (a static copy
 * removes it), so it is cached only briefly. */
static void tile_reply(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	struct tile t;
	long long size = 0;
	unsigned char *data = NULL;
	size_t len = 0;
	/* the path as the spec writes it, after the prefix "/log/" */
	cf_err e = tiles_parse(request_path(rq) + strlen("/log/"), &t, &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = tlog_signed_size(db, &size, &err);
	if (!e)
		e = tlog_tile(db, &t, size, &data, &len, &err);
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	reply_header(rq, "Cache-Control", t.width == TILES_WIDTH ? "public, max-age=31536000, immutable"
								   : "no-cache");
	reply_taken(rq, 200, "application/octet-stream", (char *)data, len);
}

void route_tiles_tile(struct request *rq)
{
	tile_reply(rq);
}

void route_tiles_entries(struct request *rq)
{
	tile_reply(rq);
}
