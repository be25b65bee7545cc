/*
 * routes/gs1: shelf check by barcode (issue 15). The GS1 Digital Link
 * resolver (/01/{gtin}[/10/{lot}][/21/{serial}]) answers with the
 * certificate page or, asked for application/linkset+json, the RFC 9264
 * linkset of the GTIN's certificates; POST /v1/shelf-check answers a
 * retailer's catalogue (up to SHELF_MAX GTINs) in one streamed response of
 * JSON lines, a page of GTINs per query. The GTIN logic: core/gtin.h.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "digitallink.h"
#include "gtin.h"
#include "http.h"
#include "jsonx.h"
#include "log.h"
#include "mem.h"
#include "routes.h"
#include "server.h"
#include "workerdb.h"

#define SHELF_MAX 10000 /* GTINs in one shelf check */
#define SHELF_PAGE 500  /* GTINs per query of a shelf check */

#define GS1_CERTIFICATION_INFO "https://gs1.org/voc/certificationInfo"

/* A batch/lot (AI 10) or serial (AI 21) qualifier: 1 to 20 characters of GS1
 * AI encodable character set 82. The answer does not depend on it (a
 * certificate covers a product model, every lot and item of it); it is
 * checked so that a malformed Digital Link is not taken as a good one. */
static cf_err check_qualifier(const char *v, const char *what, struct cf_error *err)
{
	static const char cset82[] = "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
				     "abcdefghijklmnopqrstuvwxyz";
	size_t n = strlen(v);
	if (n < 1 || n > 20 || strspn(v, cset82) != n)
		return cf_error_set(err, CF_EINVAL, NULL,
				    "a GS1 %s has 1 to 20 characters of GS1 character set 82", what);
	return CF_OK;
}

static bool wants_linkset(const struct request *rq)
{
	const char *lt = request_query(rq, "linkType");
	if (lt && strcmp(lt, "all") == 0)
		return true;
	const char *accept = request_header(rq, "Accept");
	return accept && strstr(accept, "application/linkset+json");
}

static json_t *linkset(const char *base, const char *anchor, const json_t *certs)
{
	json_t *targets = json_array();
	size_t i;
	const json_t *c;
	json_array_foreach(certs, i, c) {
		const char *serial = jsonx_str(c, "serial");
		const char *status = jsonx_str(c, "status");
		char title[256];
		snprintf(title, sizeof title, "Certificate %s (%s@%s): %s", serial,
			 jsonx_str(c, "scheme_id"), jsonx_str(c, "scheme_version"), status);
		char *page = cf_asprintf("%s/verify/%s", base, serial);
		char *api = cf_asprintf("%s/v1/certificates/%s", base, serial);
		/* RFC 9264 4.2.4.3: extension target attributes are arrays */
		json_array_append_new(targets, json_pack("{s:s,s:s,s:s,s:[s],s:[s]}", "href", page,
							 "type", "text/html", "title", title, "status",
							 status, "valid_until",
							 jsonx_str(c, "valid_until")));
		json_array_append_new(targets, json_pack("{s:s,s:s,s:s,s:[s],s:[s]}", "href", api,
							 "type", "application/json", "title", title,
							 "status", status, "valid_until",
							 jsonx_str(c, "valid_until")));
		free(page);
		free(api);
	}
	return json_pack("{s:[{s:s,s:o}]}", "linkset", "anchor", anchor, GS1_CERTIFICATION_INFO,
			 targets);
}

/* Several certificates and no one current: a short page listing them, each
 * a link to its own page (the buyer chooses by the product's name). */
static cf_err choice_page(const char *gtin14, const json_t *certs, struct buf *b, struct cf_error *err)
{
	cf_err e = buf_printf(b, err,
			      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
			      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
			      "<title>Certificates of GTIN %s</title></head><body><main>"
			      "<h1>Certificates of GTIN %s</h1><ul>\n",
			      gtin14, gtin14);
	size_t i;
	const json_t *c;
	json_array_foreach(certs, i, c) {
		const char *serial = jsonx_str(c, "serial"); /* ^CF-[0-9]{4}-[0-9]+$: no escaping */
		if (!e)
			e = buf_printf(b, err, "<li><a href=\"/verify/%s\">%s</a>: ", serial, serial);
		if (!e)
			e = buf_puts_markup(b, jsonx_str(c, "product"), err);
		if (!e)
			e = buf_printf(b, err, " (%s)</li>\n", jsonx_str(c, "status"));
	}
	if (!e)
		e = buf_puts(b, "</ul></main></body></html>\n", err);
	return e;
}

void route_gs1_resolve(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *certs = NULL;
	char gtin14[GTIN_LEN + 1];
	const char *lot = request_param(rq, "lot"), *ser = request_param(rq, "ser");
	cf_err e = digitallink_gtin14(request_param(rq, "gtin"), gtin14, &err);
	if (!e && lot)
		e = check_qualifier(lot, "batch/lot number (AI 10)", &err);
	if (!e && ser)
		e = check_qualifier(ser, "serial number (AI 21)", &err);
	if (!e)
		e = request_db(rq, &db, &err);
	if (!e)
		e = gtin_certificates(db, gtin14, &certs, &err);
	if (!e && json_array_size(certs) == 0)
		e = cf_error_set(&err, CF_ENOTFOUND, NULL, "no certificate in the register names GTIN %s",
				 gtin14);
	if (e) {
		json_decref(certs);
		reply_problem(rq, &err);
		return;
	}
	const char *base = request_server(rq)->cfg->public_url ? request_server(rq)->cfg->public_url : "";
	reply_header(rq, "Vary", "Accept");
	if (wants_linkset(rq)) {
		/* the anchor is the Digital Link URI as asked, the GTIN normalised */
		char *anchor = cf_asprintf("%s/01/%s%s%s%s%s", base, gtin14, lot ? "/10/" : "",
					    lot ? lot : "", ser ? "/21/" : "", ser ? ser : "");
		json_t *ls = linkset(base, anchor, certs);
		free(anchor);
		json_decref(certs);
		char *text = json_dumps(ls, JSON_COMPACT);
		json_decref(ls);
		reply_taken(rq, 200, "application/linkset+json", text, strlen(text));
		return;
	}
	/* the page: the one valid certificate, else the only one there is
	 * (its page says its status), else a list to choose from */
	const char *target = NULL;
	size_t i, nvalid = 0;
	const json_t *c;
	json_array_foreach(certs, i, c) {
		if (strcmp(jsonx_str(c, "status"), "valid") == 0) {
			nvalid++;
			target = jsonx_str(c, "serial");
		}
	}
	if (nvalid != 1)
		target = json_array_size(certs) == 1 ? jsonx_str(json_array_get(certs, 0), "serial") : NULL;
	if (target) {
		char *loc = cf_asprintf("%s/verify/%s", base, target);
		reply_header(rq, MHD_HTTP_HEADER_LOCATION, loc);
		free(loc);
		reply_bytes(rq, 307, "text/plain; charset=utf-8", "", 0);
		json_decref(certs);
		return;
	}
	struct buf b;
	buf_init(&b, 1u << 20);
	e = choice_page(gtin14, certs, &b, &err);
	json_decref(certs);
	if (e) {
		buf_free(&b);
		reply_problem(rq, &err);
		return;
	}
	reply_header(rq, "Content-Security-Policy", "default-src 'none'; base-uri 'none'; "
						    "form-action 'none'; frame-ancestors 'none'");
	reply_header(rq, "X-Content-Type-Options", "nosniff");
	reply_bytes(rq, 300, "text/html; charset=utf-8", buf_str(&b), b.len);
	buf_free(&b);
}

struct shelf_state {
	struct server *srv;
	json_t *body;        /* the array of GTINs */
	const char **inputs; /* one page of it, borrowed from body */
	size_t next, count;
	struct buf buf;
	size_t pos;
	bool failed;
};

static bool shelf_refill(struct shelf_state *st)
{
	struct cf_error err;
	struct db *db = NULL;
	buf_reset(&st->buf);
	st->pos = 0;
	if (st->next >= st->count || st->failed)
		return false;
	size_t n = st->count - st->next < SHELF_PAGE ? st->count - st->next : SHELF_PAGE;
	for (size_t i = 0; i < n; i++)
		st->inputs[i] = json_string_value(json_array_get(st->body, st->next + i));
	cf_err e = workerdb_get(st->srv->runtime_conninfo, &db, &err);
	if (!e)
		e = gtin_shelf_page(db, st->inputs, n, &st->buf, &err);
	if (e) {
		log_error("shelf check aborted after %zu of %zu GTINs: %s", st->next, st->count,
			  err.detail);
		st->failed = true;
		return false;
	}
	st->next += n;
	return true;
}

static ssize_t shelf_read(void *cls, uint64_t pos, char *out, size_t max)
{
	(void)pos;
	struct shelf_state *st = cls;
	while (st->pos == st->buf.len)
		if (!shelf_refill(st))
			return reply_stream_end(st->failed);
	return (ssize_t)buf_drain(&st->buf, &st->pos, out, max);
}

static void shelf_free(void *cls)
{
	struct shelf_state *st = cls;
	json_decref(st->body);
	free(st->inputs);
	buf_free(&st->buf);
	free(st);
}

void route_shelf_check(struct request *rq)
{
	struct cf_error err;
	json_t *body = NULL;
	cf_err e = request_json(rq, &body, &err);
	json_t *list = body;
	if (!e && json_is_object(body))
		list = json_object_get(body, "gtins");
	if (!e && !json_is_array(list))
		e = cf_error_set(&err, CF_EINVAL, NULL,
				 "the body is an array of GTINs or {\"gtins\": [...]}");
	if (!e && json_array_size(list) > SHELF_MAX)
		e = cf_error_set(&err, CF_ETOOLARGE, NULL,
				 "a shelf check takes up to %d GTINs; this one has %zu: split it",
				 SHELF_MAX, json_array_size(list));
	if (e) {
		json_decref(body);
		reply_problem(rq, &err);
		return;
	}
	struct shelf_state *st = cf_calloc(1, sizeof *st);
	st->srv = request_server(rq);
	st->body = json_incref(list);
	json_decref(body);
	st->count = json_array_size(list);
	st->inputs = cf_calloc(SHELF_PAGE, sizeof *st->inputs);
	buf_init(&st->buf, 16u << 20);
	struct MHD_Response *resp =
		MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, shelf_read, st, shelf_free);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/jsonl");
	reply_response(rq, 200, resp, 0);
}
