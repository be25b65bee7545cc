/*
 * routes/verify_page: the buyer's page, GET /verify/{serial}. Server-rendered
 * HTML with no script: the status big and plain, then what the certificate
 * says and whom to tell about a vulnerability. Every value is escaped; the
 * page is readable at phone width.
 */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "certificate.h"
#include "http.h"
#include "jsonx.h"
#include "routes.h"
#include "server.h"

/* Appends s with HTML's special characters escaped. */
static cf_err esc(struct buf *b, const char *s)
{
	cf_err e = CF_OK;
	for (const char *p = s ? s : ""; *p && !e; p++) {
		switch (*p) {
		case '&': e = buf_puts(b, "&amp;", NULL); break;
		case '<': e = buf_puts(b, "&lt;", NULL); break;
		case '>': e = buf_puts(b, "&gt;", NULL); break;
		case '"': e = buf_puts(b, "&quot;", NULL); break;
		case '\'': e = buf_puts(b, "&#39;", NULL); break;
		default: e = buf_append(b, p, 1, NULL);
		}
	}
	return e;
}

static cf_err row(struct buf *b, const char *label, const char *value)
{
	cf_err e = buf_puts(b, "<tr><th>", NULL);
	if (!e)
		e = esc(b, label);
	if (!e)
		e = buf_puts(b, "</th><td>", NULL);
	if (!e)
		e = esc(b, value);
	if (!e)
		e = buf_puts(b, "</td></tr>\n", NULL);
	return e;
}

/* "2026-11-25T15:15:03Z" -> "2026-11-25 15:15 UTC", for people. */
static const char *when(const char *t, char *out, size_t size)
{
	if (!t || strlen(t) < 16 || t[10] != 'T')
		return t ? t : "";
	snprintf(out, size, "%.10s %.5s UTC", t, t + 11);
	return out;
}

static const char head[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>%s</title>\n<style>\n"
	"body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1b1b;"
	"background:#f6f6f4;line-height:1.4}\n"
	"main{max-width:40rem;margin:0 auto;padding:1rem}\n"
	".status{border-radius:.75rem;padding:1.25rem 1rem;text-align:center;color:#fff;margin:.5rem 0 1rem}\n"
	".status strong{display:block;font-size:2.4rem;letter-spacing:.06em}\n"
	".status span{font-size:1rem}\n"
	".valid{background:#17693a}.suspended{background:#9a5b00}.withdrawn{background:#a4161a}"
	".expired{background:#55585e}.unknown{background:#33363b}.key_compromised{background:#a4161a}\n"
	"table{width:100%%;border-collapse:collapse;background:#fff;border-radius:.5rem;overflow:hidden;"
	"margin-bottom:1rem}\n"
	"th,td{text-align:left;vertical-align:top;padding:.55rem .75rem;border-bottom:1px solid #e4e4e0;"
	"overflow-wrap:anywhere}\n"
	"th{width:38%%;font-weight:600;color:#444}\n"
	"h2{font-size:1.05rem;margin:1.25rem 0 .4rem}\n"
	".note{background:#fff3cd;border-radius:.5rem;padding:.75rem;margin-bottom:1rem}\n"
	"footer{font-size:.85rem;color:#555;margin:1.5rem 0}\n"
	"a{color:#0b5cad}\n"
	"@media (max-width:30rem){th{width:45%%}.status strong{font-size:2rem}}\n"
	"</style></head><body><main>\n";

static void send_page(struct request *rq, unsigned status, struct buf *b)
{
	reply_header(rq, "Content-Security-Policy",
		     "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; base-uri 'none'; "
		     "form-action 'none'; frame-ancestors 'none'");
	reply_header(rq, "X-Content-Type-Options", "nosniff");
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	reply_bytes(rq, status, "text/html; charset=utf-8", buf_str(b), b->len);
}

static void unknown_serial(struct request *rq, const char *serial)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	cf_err e = buf_printf(&b, NULL, head, "Unknown certificate");
	if (!e)
		e = buf_puts(&b, "<div class=\"status unknown\"><strong>UNKNOWN</strong><span>No certificate "
				 "with the serial <b>", NULL);
	if (!e)
		e = esc(&b, serial);
	if (!e)
		e = buf_puts(&b, "</b> is in the register. Do not rely on a label or document that shows "
				 "it.</span></div>\n</main></body></html>\n", NULL);
	if (e)
		reply_problem_msg(rq, CF_EINTERNAL, "the page could not be built");
	else
		send_page(rq, 404, &b);
	buf_free(&b);
}

static const char *status_line(const char *status)
{
	if (strcmp(status, "valid") == 0)
		return "This certificate is valid.";
	if (strcmp(status, "suspended") == 0)
		return "This certificate is suspended: it does not vouch for the product now.";
	if (strcmp(status, "withdrawn") == 0)
		return "This certificate was withdrawn: it no longer vouches for the product.";
	if (strcmp(status, "key_compromised") == 0)
		return "This certificate was signed with the body's key after that key was compromised: "
		       "it is not the body's statement and vouches for nothing.";
	return "This certificate has expired.";
}

static cf_err render(struct buf *b, const json_t *c)
{
	const json_t *cred = json_object_get(c, "credential");
	const json_t *subj = json_object_get(cred, "credentialSubject");
	const json_t *prod = json_object_get(subj, "product");
	const json_t *maker = json_object_get(subj, "manufacturer");
	const json_t *vd = json_object_get(maker, "vulnerabilityDisclosure");
	const json_t *scheme = json_object_get(subj, "scheme");
	const json_t *acc = json_object_get(subj, "accreditation");
	const char *status = jsonx_str(c, "status");
	char upper[24], cls[16], days[48];
	size_t i = 0;
	for (; status[i] && i < sizeof upper - 1; i++) /* key_compromised: KEY COMPROMISED */
		upper[i] = (char)(status[i] >= 'a' && status[i] <= 'z' ? status[i] - 32 :
				  status[i] == '_' ? ' ' : status[i]);
	upper[i] = '\0';
	snprintf(cls, sizeof cls, "%lld", (long long)json_integer_value(json_object_get(subj, "complianceClass")));
	snprintf(days, sizeof days, "within %lld days",
		 (long long)json_integer_value(json_object_get(vd, "responseDays")));

	struct buf title; /* the serial is the register's own, escaped all the same */
	buf_init(&title, 1024);
	cf_err e = buf_puts(&title, "Certificate ", NULL);
	if (!e)
		e = esc(&title, jsonx_str(c, "serial"));
	if (!e)
		e = buf_printf(b, NULL, head, buf_str(&title));
	buf_free(&title);
	if (!e)
		e = buf_printf(b, NULL, "<div class=\"status %s\"><strong>%s</strong><span>", status, upper);
	if (!e)
		e = esc(b, status_line(status));
	if (!e)
		e = buf_puts(b, "</span></div>\n", NULL);
	if (!e && jsonx_str(c, "status_reason") && strcmp(status, "valid") != 0) {
		e = buf_puts(b, "<p class=\"note\">Reason: ", NULL);
		if (!e)
			e = esc(b, jsonx_str(c, "status_reason"));
		if (!e)
			e = buf_puts(b, " (", NULL);
		char t[40];
		if (!e)
			e = esc(b, when(jsonx_str(c, "status_changed_at"), t, sizeof t));
		if (!e)
			e = buf_puts(b, ")</p>\n", NULL);
	}
	const json_t *review = json_object_get(c, "review");
	if (!e && json_is_object(review)) {
		/* the status stays as it is (ISO/IEC 17065: a review, not a withdrawal);
		 * the buyer is told, in the words every other surface uses */
		char t[40];
		e = buf_puts(b, "<p class=\"note review\"><b>Under review</b>: ", NULL);
		if (!e)
			e = esc(b, jsonx_str(review, "reason"));
		if (!e)
			e = buf_puts(b, " (since ", NULL);
		if (!e)
			e = esc(b, when(jsonx_str(review, "since"), t, sizeof t));
		if (!e)
			e = buf_puts(b, "). Ask the manufacturer or the scheme owner before relying on it.</p>\n",
				     NULL);
	}
	if (!e)
		e = buf_puts(b, "<h2>Product</h2><table>\n", NULL);
	if (!e)
		e = row(b, "Product", jsonx_str(prod, "name"));
	if (!e)
		e = row(b, "Model", jsonx_str(prod, "model"));
	if (!e)
		e = row(b, "Hardware version", jsonx_str(prod, "hardwareVersion"));
	if (!e)
		e = row(b, "Firmware version", jsonx_str(prod, "firmwareVersion"));
	if (!e && jsonx_str(prod, "gtin"))
		e = row(b, "GTIN", jsonx_str(prod, "gtin"));
	if (!e)
		e = row(b, "Security updates until", jsonx_str(prod, "securitySupportEnd"));
	if (!e)
		e = row(b, "Manufacturer", jsonx_str(maker, "name"));
	if (!e)
		e = buf_puts(b, "</table>\n<h2>Certification</h2><table>\n", NULL);
	if (!e)
		e = row(b, "Scheme", jsonx_str(scheme, "name"));
	/* scheme.id is the scheme version's URL; its version is what a person reads */
	if (!e)
		e = row(b, "Scheme version", jsonx_str(scheme, "version"));
	if (!e)
		e = row(b, "Compliance class", cls);
	if (!e)
		e = row(b, "Certified by", jsonx_str(json_object_get(c, "issuer"), "name"));
	if (!e) {
		char ar[300];
		snprintf(ar, sizeof ar, "%s, by %s", jsonx_str(acc, "reference"), jsonx_str(acc, "accreditor"));
		e = row(b, "Accreditation", ar);
	}
	if (!e)
		e = row(b, "Certificate", jsonx_str(c, "serial"));
	char t1[40], t2[40];
	if (!e)
		e = row(b, "Valid from", when(jsonx_str(c, "valid_from"), t1, sizeof t1));
	if (!e)
		e = row(b, "Valid until", when(jsonx_str(c, "valid_until"), t2, sizeof t2));
	if (!e)
		e = buf_puts(b, "</table>\n<h2>Found a security problem?</h2><table>\n", NULL);
	if (!e)
		e = row(b, "Report it to", jsonx_str(vd, "contact"));
	if (!e) {
		e = buf_puts(b, "<tr><th>Disclosure policy</th><td><a rel=\"nofollow noopener\" href=\"", NULL);
		if (!e)
			e = esc(b, jsonx_str(vd, "policy"));
		if (!e)
			e = buf_puts(b, "\">", NULL);
		if (!e)
			e = esc(b, jsonx_str(vd, "policy"));
		if (!e)
			e = buf_puts(b, "</a></td></tr>\n", NULL);
	}
	if (!e)
		e = row(b, "First response", days);
	if (!e)
		e = buf_puts(b, "</table>\n<footer>This page reads the live register. The certificate is a "
				"signed credential that any JOSE library can check offline: <a href=\"", NULL);
	if (!e)
		e = esc(b, jsonx_str(json_object_get(c, "links"), "jws"));
	if (!e)
		e = buf_puts(b, "\">signed certificate</a>, <a href=\"/.well-known/jwks.json\">keys</a>, "
				"<a href=\"/v1/log/checkpoint\">transparency log</a> (entry ", NULL);
	if (!e)
		e = buf_printf(b, NULL, "%lld).</footer>\n</main></body></html>\n",
			       (long long)json_integer_value(json_object_get(json_object_get(c, "log"), "index")));
	return e;
}

void route_verify_page(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *c = NULL;
	const char *serial = request_param(rq, "serial");
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_get(db, rq->srv->cfg->public_url, serial, &c, &err);
	if (e == CF_ENOTFOUND) {
		unknown_serial(rq, serial);
		return;
	}
	if (e) {
		reply_problem(rq, &err);
		return;
	}
	struct buf b;
	buf_init(&b, 1 << 20);
	if (render(&b, c))
		reply_problem_msg(rq, CF_EINTERNAL, "the page could not be built");
	else
		send_page(rq, 200, &b);
	buf_free(&b);
	json_decref(c);
}
