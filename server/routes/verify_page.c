/*
 * routes/verify_page: the buyer's page, GET /verify/{serial}. Server-rendered
 * HTML with no script, for a shopper with a phone, a retailer's buyer and a
 * market surveillance officer: the status in plain words and what it means,
 * what the scheme and the class mean, the product, the body and its
 * accreditation, the history, whom to tell about a vulnerability. Every value
 * is escaped; the page is readable at phone width and prints on paper.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "certificate.h"
#include "http.h"
#include "jsonx.h"
#include "routes.h"
#include "server.h"

/* The page being written: the first error sticks and later writes do
 * nothing, so the layout reads top to bottom without an if per line. */
struct page {
	struct buf *b;
	cf_err e;
};

static void put(struct page *p, const char *s)
{
	if (!p->e)
		p->e = buf_puts(p->b, s, NULL);
}

/* Appends s with HTML's special characters escaped. */
static void text(struct page *p, const char *s)
{
	if (!p->e)
		p->e = buf_puts_markup(p->b, s, NULL);
}

/* A link; only http(s), mailto and this site's own paths become links
 * (a javascript: URL from a snapshot must not), anything else is text. */
static void anchor(struct page *p, const char *href, const char *label)
{
	bool ok = href && (strncmp(href, "https://", 8) == 0 || strncmp(href, "http://", 7) == 0 ||
			   strncmp(href, "mailto:", 7) == 0 || (href[0] == '/' && href[1] != '/'));
	if (ok) {
		put(p, "<a href=\"");
		text(p, href);
		put(p, "\">");
	}
	text(p, label ? label : href);
	if (ok)
		put(p, "</a>");
}

static void row_open(struct page *p, const char *label)
{
	put(p, "<tr><th scope=\"row\">");
	text(p, label);
	put(p, "</th><td>");
}

static void row(struct page *p, const char *label, const char *value)
{
	if (!value || !*value)
		return;
	row_open(p, label);
	text(p, value);
	put(p, "</td></tr>\n");
}

/* "2026-11-25T15:15:03Z" -> "2026-11-25 15:15 UTC", for people. */
static const char *when(const char *t, char *out, size_t size)
{
	if (!t || strlen(t) < 16 || t[10] != 'T')
		return t ? t : "";
	snprintf(out, size, "%.10s %.5s UTC", t, t + 11);
	return out;
}

/* "2026-11-25T15:15:03Z" -> "2026-11-25": a certificate's dates are days. */
static const char *day(const char *t, char *out, size_t size)
{
	if (!t || strlen(t) < 10)
		return t ? t : "";
	snprintf(out, size, "%.10s", t);
	return out;
}

static const char head[] =
	"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
	"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
	"<title>%s</title>\n<style>\n"
	"body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1b1b1b;"
	"background:#f6f6f4;line-height:1.45}\n"
	"main{max-width:42rem;margin:0 auto;padding:1rem}\n"
	"h1{font-size:1.35rem;margin:.5rem 0}\n"
	"h1 small{display:block;font-size:.95rem;font-weight:400;color:#444}\n"
	".status{border-radius:.75rem;padding:1.1rem 1rem;color:#fff;margin:.5rem 0 1rem}\n"
	".status strong{display:block;font-size:2.2rem;letter-spacing:.06em;text-align:center}\n"
	".status p{margin:.5rem 0 0;font-size:1.05rem}\n"
	".status a{color:#fff;text-decoration:underline}\n"
	".valid{background:#17693a}.suspended{background:#8a5100}.withdrawn{background:#a4161a}"
	".expired{background:#55585e}.unknown{background:#33363b}.key_compromised{background:#a4161a}"
	".superseded{background:#3d4f7c}\n"
	"table{width:100%%;border-collapse:collapse;background:#fff;border-radius:.5rem;overflow:hidden;"
	"margin-bottom:1rem}\n"
	"th,td{text-align:left;vertical-align:top;padding:.55rem .75rem;border-bottom:1px solid #e4e4e0;"
	"overflow-wrap:anywhere}\n"
	"th{width:38%%;font-weight:600;color:#444}\n"
	"thead th{width:auto;overflow-wrap:normal}\n"
	"h2{font-size:1.1rem;margin:1.25rem 0 .4rem}\n"
	".note{background:#fff3cd;border-radius:.5rem;padding:.75rem;margin-bottom:1rem}\n"
	".explain{background:#fff;border-radius:.5rem;padding:.75rem;margin:0 0 1rem}\n"
	".explain p{margin:.25rem 0 .5rem}\n"
	".qr{float:right;margin:0 0 .5rem 1rem;background:#fff}\n"
	"footer{font-size:.85rem;color:#555;margin:1.5rem 0}\n"
	"a{color:#0b5cad}\n"
	"@media (max-width:30rem){th{width:45%%}.status strong{font-size:1.9rem}.qr{display:none}}\n"
	"@media print{body{background:#fff;color:#000;font-size:11pt}main{max-width:none;padding:0}"
	".status{color:#000;background:#fff;border:3px solid #000}"
	"table,.explain,.note{border:1px solid #999}"
	"a{color:#000;text-decoration:none}"
	".explain a[href^=\"http\"]::after,td a[href^=\"http\"]::after{content:\" (\" attr(href) \")\";"
	"font-size:9pt}"
	"h2{break-after:avoid}tr{break-inside:avoid}.qr{display:block}}\n"
	"</style></head><body><main>\n";

static void send_page(struct request *rq, unsigned status, struct buf *b)
{
	/* img-src 'self': the label's QR code, served by this site */
	reply_header(rq, "Content-Security-Policy",
		     "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; "
		     "form-action 'none'; frame-ancestors 'none'");
	reply_header(rq, "X-Content-Type-Options", "nosniff");
	reply_header(rq, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
	reply_bytes(rq, status, "text/html; charset=utf-8", buf_str(b), b->len);
}

static void checked_at(struct page *p)
{
	char now[40];
	time_t t = time(NULL);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S UTC", &tm);
	put(p, "<p>Checked at <time>");
	text(p, now);
	put(p, "</time> against the live register.</p>\n");
}

static void unknown_serial(struct request *rq, const char *serial)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	struct page p = { &b, buf_printf(&b, NULL, head, "Unknown certificate") };
	put(&p, "<h1>Unknown certificate</h1>\n<div class=\"status unknown\"><strong>UNKNOWN</strong>"
		"<p>No certificate with the serial <b>");
	text(&p, serial);
	put(&p, "</b> is in the register. Do not rely on a label or document that shows it.</p></div>\n");
	checked_at(&p);
	put(&p, "</main></body></html>\n");
	if (p.e)
		reply_problem_msg(rq, CF_EINTERNAL, "the page could not be built");
	else
		send_page(rq, 404, &b);
	buf_free(&b);
}

/* The status in plain words and what it means for the buyer. A withdrawn
 * or expired certificate says when it ended, never a "valid until"; a
 * superseded one links to the certificate that replaced it (nothing was
 * found wrong: it is never called withdrawn). */
static void status_box(struct page *p, const json_t *c, const char *status)
{
	const char *reason = jsonx_str(c, "status_reason");
	char t[40], upper[24];
	size_t i = 0;
	for (; status[i] && i < sizeof upper - 1; i++) /* key_compromised: KEY COMPROMISED */
		upper[i] = (char)(status[i] >= 'a' && status[i] <= 'z' ? status[i] - 32 :
				  status[i] == '_' ? ' ' : status[i]);
	upper[i] = '\0';
	put(p, "<div class=\"status ");
	text(p, status);
	put(p, "\"><strong>");
	text(p, upper);
	put(p, "</strong><p>");
	if (strcmp(status, "valid") == 0) {
		put(p, "Valid until ");
		text(p, day(jsonx_str(c, "valid_until"), t, sizeof t));
		/* under review, the body's word is being questioned: not "today" */
		put(p, json_is_object(json_object_get(c, "review"))
			       ? ". An accredited body checked this product against the scheme below."
			       : ". An accredited body checked this product against the scheme below and "
				 "vouches for it today.");
	} else if (strcmp(status, "suspended") == 0) {
		put(p, "Suspended on ");
		text(p, day(jsonx_str(c, "status_changed_at"), t, sizeof t));
		if (reason) {
			put(p, " because ");
			text(p, reason);
		}
		put(p, " — the certificate does not vouch for this product now; the body may reinstate "
		       "it once the problem is fixed.");
	} else if (strcmp(status, "withdrawn") == 0) {
		put(p, "Withdrawn on ");
		text(p, day(jsonx_str(c, "status_changed_at"), t, sizeof t));
		if (reason) {
			put(p, " because ");
			text(p, reason);
		}
		put(p, " — the manufacturer no longer claims this product meets the scheme, and the "
		       "certificate vouches for nothing. Do not rely on it.");
	} else if (strcmp(status, "superseded") == 0) {
		const char *next = jsonx_str(json_object_get(c, "superseded_by"), "serial");
		char href[64];
		snprintf(href, sizeof href, "/verify/%s", next ? next : "");
		put(p, "Superseded by ");
		if (next)
			anchor(p, href, next);
		else
			put(p, "a newer certificate");
		put(p, " on ");
		text(p, day(jsonx_str(c, "status_changed_at"), t, sizeof t));
		put(p, " — a newer version of this product was certified and that certificate replaces "
		       "this one. Check that your product's version matches it.");
	} else if (strcmp(status, "key_compromised") == 0) {
		put(p, "This certificate was signed with the body's key after that key was compromised: "
		       "it is not the body's statement and vouches for nothing.");
	} else {
		put(p, "Expired on ");
		text(p, day(jsonx_str(c, "valid_until"), t, sizeof t));
		put(p, " — the certificate ran out and no longer vouches for this product. Ask the "
		       "manufacturer whether it has been certified again.");
	}
	put(p, "</p></div>\n");
	const json_t *review = json_object_get(c, "review");
	if (json_is_object(review)) {
		/* the status stays as it is (ISO/IEC 17065: a review, not a withdrawal);
		 * the buyer is told, in the words every other surface uses */
		put(p, "<p class=\"note review\"><b>Under review</b> since ");
		text(p, when(jsonx_str(review, "since"), t, sizeof t));
		put(p, ": ");
		text(p, jsonx_str(review, "reason"));
		put(p, ". The body that issued this certificate is itself being questioned, so the "
		       "certificate is being checked again. Ask the manufacturer or the scheme owner "
		       "before relying on it.</p>\n");
	}
}

static const char *action_words(const char *action)
{
	static const struct {
		const char *action, *words;
	} words[] = {
		{ "issue", "Issued" }, { "issued", "Issued" }, { "suspend", "Suspended" },
		{ "suspended", "Suspended" }, { "reinstate", "Reinstated" }, { "reinstated", "Reinstated" },
		{ "withdraw", "Withdrawn" }, { "withdrawn", "Withdrawn" }, { "superseded", "Superseded" },
	};
	for (size_t i = 0; action && i < sizeof words / sizeof words[0]; i++)
		if (strcmp(action, words[i].action) == 0)
			return words[i].words;
	return action ? action : "";
}

static void history(struct page *p, const json_t *c)
{
	const json_t *h = json_object_get(c, "history");
	put(p, "<h2>Status history</h2>\n<table>\n<thead><tr><th scope=\"col\">Date</th>"
	       "<th scope=\"col\">Change</th><th scope=\"col\">Reason</th></tr></thead><tbody>\n");
	size_t i;
	const json_t *ev;
	json_array_foreach(h, i, ev) {
		char t[40];
		put(p, "<tr><td>");
		text(p, when(jsonx_str(ev, "at"), t, sizeof t));
		put(p, "</td><td>");
		text(p, action_words(jsonx_str(ev, "action")));
		put(p, "</td><td>");
		text(p, jsonx_str(ev, "reason"));
		put(p, "</td></tr>\n");
	}
	put(p, "</tbody></table>\n");
}

/* A disclosure contact is an address or a URL; either becomes a link. */
static void contact(struct page *p, const char *who)
{
	if (!who || !*who)
		return;
	row_open(p, "Report it to");
	if (strchr(who, '@') && !strchr(who, ':') && !strchr(who, '/')) {
		struct buf m;
		buf_init(&m, 1024);
		if (buf_puts(&m, "mailto:", NULL) == CF_OK && buf_puts(&m, who, NULL) == CF_OK)
			anchor(p, buf_str(&m), who);
		else
			text(p, who);
		buf_free(&m);
	} else {
		anchor(p, who, who);
	}
	put(p, "</td></tr>\n");
}

/* The certificate serial a certificate URL ends with, as a page link
 * (/verify/<serial>) in href; false when url is not one. */
static bool serial_link(const char *url, char *href, size_t size, const char **serial)
{
	const char *slash = url ? strrchr(url, '/') : NULL;
	if (!slash || strncmp(slash + 1, "CF-", 3) != 0)
		return false;
	*serial = slash + 1;
	snprintf(href, size, "/verify/%s", *serial);
	return true;
}

/* A change of a certified product: the certificate this one replaces, and
 * how much of its assessment was carried from an earlier certificate
 * (docs/workflow.md "Carry-over and change applications"). */
static void replaces(struct page *p, const json_t *subj)
{
	char href[80], n[48];
	const char *serial;
	if (serial_link(jsonx_str(subj, "supersedes"), href, sizeof href, &serial)) {
		row_open(p, "Replaces");
		anchor(p, href, serial);
		put(p, " (an earlier version of this product)</td></tr>\n");
	}
	const json_t *as = json_object_get(subj, "assessment");
	if (!json_is_object(as) || !serial_link(jsonx_str(as, "carriedFrom"), href, sizeof href, &serial))
		return;
	size_t anew = json_array_size(json_object_get(as, "assessedAnew"));
	size_t carried = json_array_size(json_object_get(as, "carried"));
	row_open(p, "Assessment");
	snprintf(n, sizeof n, "%zu of %zu", anew, anew + carried);
	text(p, n);
	put(p, " requirements assessed anew, the others carried over from the assessment behind ");
	anchor(p, href, serial);
	put(p, "</td></tr>\n");
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
	const char *serial = jsonx_str(c, "serial");
	bool ended = strcmp(status, "withdrawn") == 0 || strcmp(status, "expired") == 0 ||
		     strcmp(status, "superseded") == 0 || strcmp(status, "key_compromised") == 0;
	char cls[24], days[48], t[40];
	snprintf(cls, sizeof cls, "%lld", (long long)json_integer_value(json_object_get(subj, "complianceClass")));
	snprintf(days, sizeof days, "within %lld days",
		 (long long)json_integer_value(json_object_get(vd, "responseDays")));

	struct buf title; /* the serial is the register's own, escaped all the same */
	buf_init(&title, 1024);
	struct page tp = { &title, CF_OK };
	put(&tp, "Certificate ");
	text(&tp, serial);
	struct page p = { b, tp.e };
	if (!p.e)
		p.e = buf_printf(b, NULL, head, buf_str(&title));
	buf_free(&title);

	put(&p, "<h1>Certificate ");
	text(&p, serial);
	put(&p, "<small>");
	text(&p, jsonx_str(prod, "name"));
	put(&p, " by ");
	text(&p, jsonx_str(maker, "name"));
	put(&p, "</small></h1>\n");
	status_box(&p, c, status);
	checked_at(&p);

	/* the label's QR code (GET /v1/certificates/{serial}/qr.svg); if it
	 * cannot be loaded the alternative text stands in and nothing else moves */
	put(&p, "<img class=\"qr\" width=\"128\" height=\"128\" src=\"/v1/certificates/");
	text(&p, serial);
	put(&p, "/qr.svg\" alt=\"QR code of this certificate, as printed on the product's label\">\n");

	put(&p, "<h2>Product</h2><table>\n");
	row(&p, "Product", jsonx_str(prod, "name"));
	row(&p, "Model", jsonx_str(prod, "model"));
	row(&p, "Hardware version", jsonx_str(prod, "hardwareVersion"));
	row(&p, "Firmware version", jsonx_str(prod, "firmwareVersion"));
	row(&p, "GTIN (barcode)", jsonx_str(prod, "gtin"));
	if (jsonx_str(prod, "productPage")) {
		row_open(&p, "Product page");
		anchor(&p, jsonx_str(prod, "productPage"), NULL);
		put(&p, "</td></tr>\n");
	}
	row(&p, "Security updates until", jsonx_str(prod, "securitySupportEnd"));
	row(&p, "Manufacturer", jsonx_str(maker, "name"));
	row(&p, "Manufacturer's country", jsonx_str(maker, "country"));
	put(&p, "</table>\n");

	put(&p, "<h2>What was certified</h2>\n<div class=\"explain\"><p><b>");
	text(&p, jsonx_str(scheme, "name"));
	put(&p, "</b> (version ");
	text(&p, jsonx_str(scheme, "version"));
	put(&p, ") is a published set of security requirements for connected products; this "
		"certificate records that an accredited body checked the product against them. ");
	anchor(&p, jsonx_str(scheme, "id"), "Read the scheme's requirements");
	put(&p, ".</p><p><b>Compliance class ");
	text(&p, cls);
	put(&p, "</b> is the level of the scheme the product was assessed at: a higher class means "
		"more requirements were checked.</p></div>\n");

	put(&p, "<h2>Certification</h2><table>\n");
	row_open(&p, "Certified by");
	{
		struct buf href;
		buf_init(&href, 1024);
		const char *body = jsonx_str(json_object_get(c, "issuer"), "body_id");
		if (body && buf_puts(&href, "/v1/bodies/", NULL) == CF_OK && buf_puts(&href, body, NULL) == CF_OK)
			anchor(&p, buf_str(&href), jsonx_str(json_object_get(c, "issuer"), "name"));
		else
			text(&p, jsonx_str(json_object_get(c, "issuer"), "name"));
		buf_free(&href);
	}
	put(&p, "</td></tr>\n");
	row_open(&p, "Accreditation");
	text(&p, jsonx_str(acc, "reference"));
	put(&p, ", by ");
	text(&p, jsonx_str(acc, "accreditor"));
	put(&p, "</td></tr>\n");
	row(&p, "Certificate", serial);
	row(&p, "Issued on", day(jsonx_str(c, "valid_from"), t, sizeof t));
	if (!ended) {
		row(&p, "Valid until", day(jsonx_str(c, "valid_until"), t, sizeof t));
	} else if (strcmp(status, "expired") == 0) {
		row(&p, "Expired on", day(jsonx_str(c, "valid_until"), t, sizeof t));
	} else {
		row(&p, "Ended on", day(jsonx_str(c, "status_changed_at"), t, sizeof t));
	}
	replaces(&p, subj);
	put(&p, "</table>\n");

	history(&p, c);

	put(&p, "<h2>Found a security problem?</h2><table>\n");
	contact(&p, jsonx_str(vd, "contact"));
	if (jsonx_str(vd, "policy")) {
		row_open(&p, "Disclosure policy");
		anchor(&p, jsonx_str(vd, "policy"), NULL);
		put(&p, "</td></tr>\n");
	}
	row(&p, "First response", days);
	put(&p, "</table>\n<footer>This page reads the live register. The certificate is a "
		"signed credential that any JOSE library can check offline: ");
	anchor(&p, jsonx_str(json_object_get(c, "links"), "jws"), "signed certificate");
	put(&p, ", <a href=\"/.well-known/jwks.json\">keys</a>, "
		"<a href=\"/v1/log/checkpoint\">transparency log</a> (entry ");
	if (!p.e)
		p.e = buf_printf(b, NULL, "%lld).</footer>\n</main></body></html>\n",
				 (long long)json_integer_value(json_object_get(json_object_get(c, "log"), "index")));
	return p.e;
}
void route_verify_page(struct request *rq)
{
	struct cf_error err;
	struct db *db = NULL;
	json_t *c = NULL;
	const char *serial = request_param(rq, "serial");
	cf_err e = request_db(rq, &db, &err);
	if (!e)
		e = certificate_get(db, request_server(rq)->cfg->public_url, serial, &c, &err);
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
