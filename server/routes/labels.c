/*
 * routes/labels: what goes on a product and on a web page: the QR label of
 * a certificate (GET /v1/certificates/{serial}/qr.svg) and its live status
 * badge (GET /v1/certificates/{serial}/badge.svg). Both public, both SVG,
 * both read from the certificate's record as GET /v1/certificates/{serial}
 * answers it (certificate_get), so they say what the register says.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "certificate.h"
#include "digitallink.h"
#include "http.h"
#include "jsonx.h"
#include "mem.h"
#include "qrsvg.h"
#include "router.h"
#include "routes.h"
#include "server.h"

/* The certificate's record (new reference) or a problem already sent. */
static json_t *record(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *c = NULL;
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_get(db, request_server(rq)->cfg->public_url, request_param(rq, "serial"), &c, &err);
	if (e) {
		reply_problem(rq, &err);
		return NULL;
	}
	return c;
}

/* What the label encodes: the product's GS1 Digital Link URI when it has a
 * GTIN (a retailer's scanner and a phone both read it; GET /01/{gtin}
 * resolves it to the certificate), the buyer's page otherwise (caller
 * frees). A stored GTIN whose check digit is wrong (products made before
 * the check existed) falls back to the page: a label must scan to
 * something true. */
static char *label_uri(const char *public_url, const char *serial, const json_t *c)
{
	const json_t *prod = json_object_get(
		json_object_get(json_object_get(c, "credential"), "credentialSubject"), "product");
	const char *gtin = jsonx_str(prod, "gtin");
	struct cf_error err;
	char *uri = NULL;
	if (gtin && !digitallink_uri(public_url, gtin, &uri, &err))
		return uri;
	size_t n = strlen(public_url);
	while (n > 0 && public_url[n - 1] == '/')
		n--;
	return cf_asprintf("%.*s/verify/%s", (int)n, public_url, serial);
}

void route_cert_qr(struct request *rq)
{
	const char *serial = request_param(rq, "serial");
	json_t *c = record(rq);
	if (!c)
		return;
	char *uri = label_uri(request_server(rq)->cfg->public_url, serial, c);
	char *title = cf_asprintf("Certificate %s: scan to check it (%s)", serial, uri);
	char *svg = NULL;
	struct cf_error err;
	if (qrsvg_render(uri, title, &svg, &err)) {
		reply_problem(rq, &err);
	} else {
		/* what it encodes never changes for a certificate */
		reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=86400");
		reply_bytes(rq, 200, "image/svg+xml", svg, strlen(svg));
	}
	free(svg);
	free(title);
	free(uri);
	json_decref(c);
}

/* A status's words and background, white text on it at a contrast ratio of
 * at least 7:1 (WCAG AAA for small text): the badge is read at 11 px. */
struct look {
	const char *status, *words, *fill;
};

static const struct look looks[] = {
	{ "valid", "valid", "#116329" },               /* 7.4:1 */
	{ "suspended", "suspended", "#7a4600" },       /* 7.8:1 */
	{ "withdrawn", "withdrawn", "#a0111f" },       /* 8.1:1 */
	{ "expired", "expired", "#424a53" },           /* 9.0:1 */
	{ "key_compromised", "not valid (key compromised)", "#6e011a" }, /* 12.5:1 */
	{ "superseded", "superseded", "#3d4f7c" },     /* 8.1:1: replaced by a newer one, not withdrawn */
};

static const struct look *look_of(const char *status)
{
	for (size_t i = 0; i < sizeof looks / sizeof looks[0]; i++)
		if (status && strcmp(looks[i].status, status) == 0)
			return &looks[i];
	return &looks[3]; /* a status this build does not know: not a valid one */
}

/* Width in user units of s at 11 px DejaVu Sans / Verdana, generously
 * (7 px a character): text never overflows its box. */
static int text_width(const char *s)
{
	return (int)strlen(s) * 7 + 12;
}

void route_cert_badge(struct request *rq)
{
	const char *serial = request_param(rq, "serial");
	json_t *c = record(rq);
	if (!c)
		return;
	const struct look *lk = look_of(jsonx_str(c, "status"));
	bool review = json_is_object(json_object_get(c, "review"));
	char words[64];
	snprintf(words, sizeof words, "%s%s", lk->words,
		 review && strcmp(lk->status, "valid") == 0 ? ", under review" : "");
	char checked[32];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(checked, sizeof checked, "%Y-%m-%d %H:%M UTC", &tm);
	const char *left = "certificate";
	int lw = text_width(left), rw = text_width(words), h = 20;
	struct cf_error err;
	struct buf b;
	buf_init(&b, 16u << 10);
	cf_err e = buf_printf(&b, &err,
			      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
			      "viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"t\"><title id=\"t\">"
			      "Certificate ",
			      lw + rw, h, lw + rw, h);
	if (!e)
		e = buf_puts_markup(&b, serial, &err);
	if (!e)
		e = buf_printf(&b, &err, ": %s (checked %s)</title>", words, checked);
	if (!e)
		e = buf_printf(&b, &err,
			       "<rect width=\"%d\" height=\"%d\" fill=\"#333\"/>"
			       "<rect x=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\"/>"
			       "<g fill=\"#fff\" font-family=\"DejaVu Sans,Verdana,Geneva,sans-serif\" "
			       "font-size=\"11\" text-anchor=\"middle\">"
			       "<text x=\"%d\" y=\"14\">%s</text><text x=\"%d\" y=\"14\" "
			       "data-status=\"%s\">%s</text></g></svg>\n",
			       lw, h, lw, rw, h, lk->fill, lw / 2, left, lw + rw / 2, lk->status, words);
	if (e) {
		reply_problem(rq, &err);
	} else {
		/* the status is live: a minute in caches at most */
		reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "public, max-age=60");
		reply_bytes(rq, 200, "image/svg+xml", buf_str(&b), b.len);
	}
	buf_free(&b);
	json_decref(c);
}
