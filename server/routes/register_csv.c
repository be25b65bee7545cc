/*
 * routes/register_csv: GET /v1/register/export.csv, the register as CSV for
 * market surveillance (issue 15; the columns: core/regcsv.h), streamed a
 * page of certificates at a time whatever the register's size.
 */
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "mem.h"
#include "regcsv.h"
#include "routes.h"
#include "server.h"
#include "workerdb.h"

#define CSV_PAGE 500

struct csv_state {
	struct server *srv;
	struct buf buf;
	size_t pos;
	long long after, count;
	bool done, failed;
};

static bool csv_refill(struct csv_state *st)
{
	struct cf_error err;
	struct db *db = NULL;
	buf_reset(&st->buf);
	st->pos = 0;
	if (st->done || st->failed)
		return false;
	int n = 0;
	cf_err e = workerdb_get(st->srv->runtime_conninfo, &db, &err);
	if (!e)
		e = regcsv_rows(db, st->srv->cfg->public_url, &st->after, CSV_PAGE, &st->buf, &n, &err);
	if (e) {
		log_error("register CSV export aborted after %lld certificates: %s", st->count, err.detail);
		st->failed = true;
		return false;
	}
	st->count += n;
	if (n == 0) {
		st->done = true;
		return false;
	}
	return true;
}

static ssize_t csv_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct csv_state *st = cls;
	while (st->pos == st->buf.len)
		if (!csv_refill(st))
			return reply_stream_end(st->failed);
	return (ssize_t)buf_drain(&st->buf, &st->pos, out, max);
}

static void csv_free(void *cls)
{
	struct csv_state *st = cls;
	buf_free(&st->buf);
	free(st);
}

void route_register_csv(struct request *rq)
{
	/* the database is asked once before the first byte, so that its
	 * absence is a problem answer and not a 200 cut short */
	struct cf_error err;
	struct db *db = NULL;
	struct csv_state *st = cf_calloc(1, sizeof *st);
	st->srv = request_server(rq);
	buf_init(&st->buf, 64u << 20);
	int n = 0;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = regcsv_header(&st->buf, &err);
	if (!e)
		e = regcsv_rows(db, request_server(rq)->cfg->public_url, &st->after, CSV_PAGE, &st->buf, &n, &err);
	if (e) {
		csv_free(st);
		reply_problem(rq, &err);
		return;
	}
	st->count = n;
	st->done = n == 0;
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, csv_read, st, csv_free);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/csv; charset=utf-8; header=present");
	MHD_add_response_header(resp, "Content-Disposition", "attachment; filename=\"register.csv\"");
	reply_response(rq, 200, resp, 0);
}
