/*
 * The declarative API cases (tests/api/<group>.json, format in
 * tests/api/README.md): each file runs in order against one real conformd on
 * a fresh database with the test world's people (tests/support/world.c),
 * sharing the variables its cases save. Each case states a request, the
 * status it must get, and what the body and headers must hold; every answer
 * of the file is then checked against docs/openapi.json by an independent
 * validator (tests/js/api-check.mjs, ajv): the operation, the status, the
 * content type, the headers and the body's schema. One Check test case per
 * file; tests/CMakeLists.txt makes each file a ctest of its own (api/<group>).
 * tests/api/selftest.json ("must_fail") shows that the runner fails when a
 * case does not hold.
 *
 *   test_api                    every tests/api/<group>.json
 *   test_api tests/api/x.json   only these files (paths from the source tree)
 */
#include <ctype.h>
#include <glob.h>
#include <regex.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "buf.h"
#include "http.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

#define MAX_FILES 256

static char *files[MAX_FILES];
static char groups[MAX_FILES][128]; /* Check keeps the names it is given */
static int nfiles;

/* One file's run: its world, its variables, its failures. */
struct run {
	const char *file;
	struct world w;
	struct actor other_body_admin;
	json_t *vars;      /* name -> string */
	json_t *responses; /* what api-check.mjs validates */
	struct buf failures;
	int nfailed;
	json_t *faults;    /* case name -> what failed in it (for "must_fail") */
	int certificates;  /* made by "given" */
};

static void case_fail(struct run *r, const char *casename, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void note_fault(struct run *r, const char *casename, const char *msg)
{
	json_t *list = json_object_get(r->faults, casename);
	if (!list) {
		list = json_array();
		json_object_set_new(r->faults, casename, list);
	}
	json_array_append_new(list, json_string(msg));
}

/* api-check.mjs's lines ("case 'NAME' (...): fault") filed under their
 * case: the longest name of the file's cases that the line starts with. */
static void note_checker_faults(struct run *r, json_t *cases, const char *out)
{
	for (const char *line = out; line && *line;) {
		size_t n = strcspn(line, "\n");
		char *l = cf_strndup(line, n);
		const char *best = NULL;
		size_t i;
		json_t *c;
		json_array_foreach(cases, i, c) {
			const char *name = json_string_value(json_object_get(c, "name"));
			char *prefix = name ? cf_asprintf("case '%s' (", name) : NULL;
			if (prefix && strncmp(l, prefix, strlen(prefix)) == 0 &&
			    (!best || strlen(name) > strlen(best)))
				best = name;
			free(prefix);
		}
		note_fault(r, best ? best : "(the file)", l);
		free(l);
		line += n + (line[n] == '\n');
	}
}

/*
 * A self-test file ("selftest": true) proves that the runner and the checker
 * can fail: a case with "must_fail": TEXT passes only when some failure of
 * it contains TEXT; one without, only when nothing failed. The file's
 * failures are replaced by what did not go as stated.
 */
static void judge_selftest(struct run *r, json_t *cases)
{
	struct buf verdict;
	buf_init(&verdict, (size_t)1 << 24);
	int wrong = 0;
	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		const char *want = json_string_value(json_object_get(c, "must_fail"));
		json_t *got = name ? json_object_get(r->faults, name) : NULL;
		bool hit = false;
		size_t k;
		json_t *m;
		json_array_foreach(got, k, m)
			hit = hit || (want && strstr(json_string_value(m), want));
		char *said = got ? json_dumps(got, JSON_COMPACT) : cf_strdup("nothing");
		bool ok = want ? hit : got == NULL;
		if (!ok && buf_printf(&verdict, NULL, "%s: case '%s' should %s%s%s; it failed with: %.1500s\n",
				      r->file, name ? name : "?", want ? "fail with '" : "pass",
				      want ? want : "", want ? "'" : "", said))
			ck_abort_msg("too many failures to list");
		wrong += !ok;
		free(said);
	}
	json_t *file_faults = json_object_get(r->faults, "(the file)");
	if (file_faults) {
		char *said = json_dumps(file_faults, JSON_COMPACT);
		if (buf_printf(&verdict, NULL, "%s: faults of no case: %.1500s\n", r->file, said))
			ck_abort_msg("too many failures to list");
		wrong++;
		free(said);
	}
	buf_free(&r->failures);
	r->failures = verdict;
	r->nfailed = wrong;
}

static void case_fail(struct run *r, const char *casename, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (buf_printf(&r->failures, NULL, "%s: case '%s': %s\n", r->file, casename, msg))
		ck_abort_msg("too many failures to list");
	r->nfailed++;
	note_fault(r, casename, msg);
}

static void set_var(struct run *r, const char *name, const char *value)
{
	json_object_set_new(r->vars, name, json_string(value));
}

/*
 * s with every "{name}" of a saved variable replaced by its value (new
 * string); NULL (and a failure) when a "{name}" names no variable: a typo in
 * a case must not pass as literal text. Only {identifier} is a variable, so
 * JSON text ({"a":1}) goes through untouched.
 */
static char *subst(struct run *r, const char *casename, const char *s)
{
	struct buf b;
	buf_init(&b, (size_t)64 << 20);
	const char *p = s;
	while (*p) {
		if (*p == '{') {
			/* a name starts with a letter or _: "{32}" (a regex's
			 * repeat) is text */
			size_t n = 0;
			while (isalnum((unsigned char)p[1 + n]) || p[1 + n] == '_')
				n++;
			if (n > 0 && p[1 + n] == '}' && !isdigit((unsigned char)p[1])) {
				char name[128];
				snprintf(name, sizeof name, "%.*s", (int)n, p + 1);
				const char *v = json_string_value(json_object_get(r->vars, name));
				if (!v) {
					case_fail(r, casename, "no variable {%s} (saved by no earlier case)", name);
					buf_free(&b);
					return NULL;
				}
				if (buf_puts(&b, v, NULL))
					ck_abort_msg("substitution too large");
				p += n + 2;
				continue;
			}
		}
		if (buf_append(&b, p, 1, NULL))
			ck_abort_msg("substitution too large");
		p++;
	}
	if (buf_append(&b, "", 1, NULL))
		ck_abort_msg("substitution too large");
	return buf_steal(&b, NULL);
}

/* A deep copy of j with every string value substituted; NULL on a missing
 * variable. */
static json_t *subst_json(struct run *r, const char *casename, json_t *j)
{
	if (json_is_string(j)) {
		char *s = subst(r, casename, json_string_value(j));
		json_t *out = s ? json_string(s) : NULL;
		free(s);
		return out;
	}
	if (json_is_array(j)) {
		json_t *out = json_array();
		size_t i;
		json_t *v;
		json_array_foreach(j, i, v) {
			json_t *c = subst_json(r, casename, v);
			if (!c) {
				json_decref(out);
				return NULL;
			}
			json_array_append_new(out, c);
		}
		return out;
	}
	if (json_is_object(j)) {
		json_t *out = json_object();
		const char *k;
		json_t *v;
		json_object_foreach(j, k, v) {
			json_t *c = subst_json(r, casename, v);
			if (!c) {
				json_decref(out);
				return NULL;
			}
			json_object_set_new(out, k, c);
		}
		return out;
	}
	return json_deep_copy(j);
}

/* The value at an RFC 6901 pointer in doc (borrowed), or NULL. */
static json_t *pointer_get(json_t *doc, const char *ptr)
{
	if (*ptr == '\0')
		return doc;
	if (*ptr != '/')
		return NULL;
	json_t *cur = doc;
	const char *p = ptr + 1;
	for (;;) {
		size_t n = strcspn(p, "/");
		char tok[512];
		size_t o = 0;
		for (size_t i = 0; i < n && o + 1 < sizeof tok; i++) {
			if (p[i] == '~' && i + 1 < n && (p[i + 1] == '0' || p[i + 1] == '1')) {
				tok[o++] = p[i + 1] == '0' ? '~' : '/';
				i++;
			} else {
				tok[o++] = p[i];
			}
		}
		tok[o] = '\0';
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long idx = strtoul(tok, &end, 10);
			if (*tok == '\0' || *end != '\0')
				return NULL;
			cur = json_array_get(cur, idx);
		} else {
			return NULL;
		}
		if (!cur)
			return NULL;
		if (p[n] == '\0')
			return cur;
		p += n + 1;
	}
}

/* A saved or compared value as text: strings as they are, others as JSON. */
static char *value_text(json_t *v)
{
	if (json_is_string(v))
		return cf_strdup(json_string_value(v));
	return json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
}

/*
 * Whether text matches the POSIX extended regular expression re (a "~re"
 * expectation); a regex that does not compile fails the case.
 */
static bool matches(struct run *r, const char *casename, const char *re, const char *text)
{
	regex_t rx;
	if (regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0) {
		case_fail(r, casename, "'%s' is not a regular expression", re);
		return false;
	}
	bool ok = regexec(&rx, text, 0, NULL, 0) == 0;
	regfree(&rx);
	return ok;
}

/* The media type of a Content-Type value, lower case, without parameters. */
static void media_type(const char *value, char *out, size_t size)
{
	size_t n = strcspn(value, ";");
	while (n > 0 && value[n - 1] == ' ')
		n--;
	size_t i;
	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = (char)tolower((unsigned char)value[i]);
	out[i] = '\0';
}

/* The actors of a file's world by name (tests/api/README.md "Actors"). */
struct named_actor {
	const char *name;
	const struct actor *a;
};

static size_t actor_table(struct run *r, struct named_actor out[16])
{
	struct world *w = &r->w;
	const struct named_actor all[] = {
		{ "admin", &w->admin },
		{ "accreditor", &w->accreditor },
		{ "accreditation_body_admin", &w->ab_admin },
		{ "body_admin", &w->body_admin },
		{ "assessor", &w->assessor },
		{ "assessor2", &w->assessor2 },
		{ "certifier", &w->certifier },
		{ "certifier2", &w->certifier2 },
		{ "other_body_admin", &r->other_body_admin },
		{ "manufacturer_admin", &w->maker_admin },
		{ "applicant", &w->applicant },
		{ "other_manufacturer_admin", &w->maker2_admin },
		{ "other_applicant", &w->applicant2 },
	};
	_Static_assert(sizeof all / sizeof all[0] <= 16, "out holds 16 actors");
	size_t n = sizeof all / sizeof all[0];
	memcpy(out, all, sizeof all);
	return n;
}

/* The token of an actor name; "" for anonymous; NULL when unknown. */
static const char *actor_token(struct run *r, const char *as)
{
	struct named_actor actors[16];
	size_t n = actor_table(r, actors);
	if (!as || strcmp(as, "anonymous") == 0)
		return "";
	for (size_t i = 0; i < n; i++)
		if (strcmp(actors[i].name, as) == 0)
			return actors[i].a->token;
	return NULL;
}

/* The pre-saved variables (tests/api/README.md lists them). */
static void presave(struct run *r)
{
	struct world *w = &r->w;
	set_var(r, "base", w->srv.base);
	set_var(r, "host", w->srv.base + strlen("http://"));
	set_var(r, "scheme_owner_id", w->admin.org);
	set_var(r, "accreditation_body_id", w->ab_admin.org);
	set_var(r, "body_id", w->body_admin.org);
	set_var(r, "other_body_id", r->other_body_admin.org);
	set_var(r, "manufacturer_id", w->maker_admin.org);
	set_var(r, "other_manufacturer_id", w->maker2_admin.org);
	set_var(r, "accreditation_id", w->accreditation_dcms);
	set_var(r, "accreditation_iotsf_id", w->accreditation_iotsf);
	set_var(r, "body_kid", w->body_kid);
	/* did:web of the body, written out here (not by conform's code): the
	 * host's port colon percent-encoded, then the path */
	char did[160], host[64];
	size_t h = 0;
	for (const char *p = w->srv.base + strlen("http://"); *p && h + 4 < sizeof host; p++) {
		if (*p == ':') {
			memcpy(host + h, "%3A", 3);
			h += 3;
		} else {
			host[h++] = *p;
		}
	}
	host[h] = '\0';
	snprintf(did, sizeof did, "did:web:%s:bodies:%s", host, w->body_admin.org);
	set_var(r, "body_did", did);
	set_var(r, "log_kid", w->log_kid);
	struct named_actor actors[16];
	size_t n = actor_table(r, actors);
	for (size_t i = 0; i < n; i++) {
		char name[64];
		snprintf(name, sizeof name, "%s_user_id", actors[i].name);
		set_var(r, name, actors[i].a->user);
	}
}

/* Waits until the log's signed tree head covers every entry so far. */
static void wait_log(struct run *r)
{
	long status;
	json_t *e = testsrv_api(&r->w.srv, "GET", "/v1/log/entries?start=0&end=10000", NULL, NULL,
				&status);
	ck_assert_msg(status == 200, "GET /v1/log/entries: %ld", status);
	long long size = (long long)json_array_size(json_object_get(e, "entries"));
	json_decref(e);
	world_wait_checkpoint(&r->w, size);
}

/* Waits until the certificate's record says a signed tree head covers it:
 * the database has the checkpoint first (wait_log), conformd's cache hears
 * of it a moment later through NOTIFY. */
static void wait_covered(struct run *r, const char *serial)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	for (int i = 0; i < 200; i++) {
		long status;
		json_t *c = testsrv_api(&r->w.srv, "GET", path, NULL, NULL, &status);
		bool covered = status == 200 &&
			       json_is_true(json_object_get(json_object_get(c, "log"), "in_signed_tree_head"));
		json_decref(c);
		if (covered)
			return;
		usleep(50000);
	}
	ck_abort_msg("%s: certificate %s not in a signed tree head within 10 s", r->file, serial);
}

/* The presets a file asks for with "given" (tests/api/README.md). */
static void given(struct run *r, json_t *list)
{
	size_t i;
	json_t *g;
	json_array_foreach(list, i, g) {
		const char *what = json_string_value(g);
		ck_assert_msg(what != NULL, "%s: \"given\" holds a non-string", r->file);
		if (strcmp(what, "product") == 0) {
			set_var(r, "product_id", world_product(&r->w));
		} else if (strcmp(what, "certificate") == 0) {
			/* the first is {serial}, the next {serial2}, {serial3}, ... */
			char serial[40], var[32], id[37], path[128];
			world_application(&r->w, "decided", id);
			snprintf(path, sizeof path, "/v1/applications/%s/certificate", id);
			json_t *c = testsrv_api_ok(&r->w.srv, "POST", path, r->w.certifier.token, NULL, 201);
			snprintf(serial, sizeof serial, "%s", json_string_value(json_object_get(c, "serial")));
			json_decref(c);
			set_var(r, "application_id", id);
			if (++r->certificates == 1)
				snprintf(var, sizeof var, "serial");
			else
				snprintf(var, sizeof var, "serial%d", r->certificates);
			set_var(r, var, serial);
			set_var(r, "product_id", world_product(&r->w));
			wait_log(r);
			wait_covered(r, serial);
		} else if (strncmp(what, "gtin=", 5) == 0) {
			/* the applicant's product states this GTIN from now on: the
			 * certificates made after it (snapshot at submission) name it */
			char path[96];
			snprintf(path, sizeof path, "/v1/products/%s", world_product(&r->w));
			json_t *b = json_pack("{s:s}", "gtin", what + 5);
			json_decref(testsrv_api_ok(&r->w.srv, "PATCH", path, r->w.applicant.token, b, 200));
			json_decref(b);
			set_var(r, "product_id", world_product(&r->w));
		} else if (strcmp(what, "checkpoint") == 0) {
			wait_log(r);
		} else {
			ck_abort_msg("%s: unknown \"given\" preset '%s'", r->file, what);
		}
	}
}

/* The expected members of the body (pointer -> value, "*" or "absent"). */
static void check_expect(struct run *r, const char *name, json_t *expect, json_t *doc,
			 const struct http_resp *resp)
{
	const char *ptr;
	json_t *want;
	json_object_foreach(expect, ptr, want) {
		if (!doc) {
			case_fail(r, name, "expects %s but the body is not JSON: %.200s", ptr, resp->body);
			continue;
		}
		json_t *got = pointer_get(doc, ptr);
		if (json_is_string(want) && strcmp(json_string_value(want), "absent") == 0) {
			if (got)
				case_fail(r, name, "%s should be absent", ptr);
			continue;
		}
		if (json_is_string(want) && strcmp(json_string_value(want), "*") == 0) {
			if (!got)
				case_fail(r, name, "%s is missing: %.300s", ptr, resp->body);
			continue;
		}
		if (json_is_string(want) && json_string_value(want)[0] == '~') {
			const char *re = json_string_value(want) + 1;
			if (!json_is_string(got) || !matches(r, name, re, json_string_value(got))) {
				char *gt = got ? value_text(got) : cf_strdup("(missing)");
				case_fail(r, name, "%s is %.300s, which does not match %s", ptr, gt, re);
				free(gt);
			}
			continue;
		}
		json_t *w = subst_json(r, name, want);
		if (!w)
			continue;
		if (!got || !json_equal(got, w)) {
			char *gt = got ? value_text(got) : cf_strdup("(missing)");
			char *wt = value_text(w);
			case_fail(r, name, "%s is %.300s, expected %.300s", ptr, gt, wt);
			free(gt);
			free(wt);
		}
		json_decref(w);
	}
}

static void check_headers(struct run *r, const char *name, json_t *expect,
			  const struct http_resp *resp)
{
	const char *h;
	json_t *want;
	json_object_foreach(expect, h, want) {
		char got[2048];
		const char *g = http_header(resp, h, got, sizeof got);
		const char *wv = json_string_value(want);
		if (!wv) {
			case_fail(r, name, "expect_headers %s: the value must be a string", h);
			continue;
		}
		if (strcmp(wv, "absent") == 0) {
			if (g)
				case_fail(r, name, "header %s should be absent, is '%s'", h, g);
			continue;
		}
		if (!g) {
			case_fail(r, name, "header %s is missing", h);
			continue;
		}
		if (strcmp(wv, "*") == 0)
			continue;
		char *ws = subst(r, name, wv);
		if (!ws)
			continue;
		bool ok;
		if (ws[0] == '~') {
			ok = matches(r, name, ws + 1, g);
		} else if (strcasecmp(h, "Content-Type") == 0 && !strchr(ws, ';')) {
			char a[256], b[256];
			media_type(g, a, sizeof a);
			media_type(ws, b, sizeof b);
			ok = strcmp(a, b) == 0;
		} else {
			ok = strcmp(g, ws) == 0;
		}
		if (!ok)
			case_fail(r, name, "header %s is '%s', expected '%s'", h, g, ws);
		free(ws);
	}
}

static void check_text(struct run *r, const char *name, json_t *expect,
		       const struct http_resp *resp)
{
	json_t *list = json_is_array(expect) ? json_incref(expect) : json_pack("[O]", expect);
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char *s = json_is_string(v) ? subst(r, name, json_string_value(v)) : NULL;
		if (!json_is_string(v))
			case_fail(r, name, "expect_text holds a non-string");
		else if (s && (!resp->body || !strstr(resp->body, s)))
			case_fail(r, name, "the body does not contain '%.200s': %.300s", s, resp->body);
		free(s);
	}
	json_decref(list);
}

static void save(struct run *r, const char *name, json_t *spec, json_t *doc,
		 const struct http_resp *resp)
{
	const char *var;
	json_t *from;
	json_object_foreach(spec, var, from) {
		const char *f = json_string_value(from);
		if (!f) {
			case_fail(r, name, "save %s: the source must be a string", var);
			continue;
		}
		if (strncmp(f, "header:", 7) == 0) {
			char v[2048];
			if (!http_header(resp, f + 7, v, sizeof v))
				case_fail(r, name, "save %s: no header %s", var, f + 7);
			else
				set_var(r, var, v);
		} else if (strcmp(f, "text") == 0) {
			size_t n = resp->len;
			while (n > 0 && (resp->body[n - 1] == '\n' || resp->body[n - 1] == '\r'))
				n--;
			char *t = cf_strndup(resp->body, n);
			set_var(r, var, t);
			free(t);
		} else {
			json_t *v = doc ? pointer_get(doc, f) : NULL;
			if (!v) {
				case_fail(r, name, "save %s: nothing at %s", var, f);
				continue;
			}
			char *t = value_text(v);
			set_var(r, var, t);
			free(t);
		}
	}
}

/* The headers of the last header block of an answer (after a 100
 * Continue): lower-case name -> value, repeated ones joined by ", ". New
 * reference. */
static json_t *header_object(const struct http_resp *resp)
{
	json_t *h = json_object();
	for (const char *line = resp->headers; line && *line;) {
		size_t n = strcspn(line, "\r\n");
		if (n >= 5 && strncmp(line, "HTTP/", 5) == 0) {
			json_object_clear(h); /* a new block: the earlier was interim */
		} else if (n > 0 && memchr(line, ':', n)) {
			const char *colon = memchr(line, ':', n);
			char *name = cf_strndup(line, (size_t)(colon - line));
			for (char *c = name; *c; c++)
				*c = (char)tolower((unsigned char)*c);
			const char *v = colon + 1;
			while (v < line + n && *v == ' ')
				v++;
			char *value = cf_strndup(v, (size_t)(line + n - v));
			const char *had = json_string_value(json_object_get(h, name));
			char *joined = had ? cf_asprintf("%s, %s", had, value) : cf_strdup(value);
			json_object_set_new(h, name, json_string(joined));
			free(joined);
			free(value);
			free(name);
		}
		line += n;
		while (*line == '\r' || *line == '\n')
			line++;
	}
	return h;
}

/* What api-check.mjs needs of an answer: the body as text unless binary. */
static void record(struct run *r, const char *name, const char *method, const char *path,
		   const struct http_resp *resp)
{
	char ct[512];
	const char *c = http_header(resp, "Content-Type", ct, sizeof ct);
	char *bare = cf_strndup(path, strcspn(path, "?"));
	json_t *body = resp->len && memchr(resp->body, 0, resp->len) == NULL ?
			       json_stringn(resp->body, resp->len) : NULL;
	json_t *rec = json_pack("{s:s,s:s,s:s,s:i,s:o,s:I,s:b}", "case", name, "method", method, "path",
				bare, "status", (int)resp->status, "content_type",
				c ? json_string(c) : json_null(), "length", (json_int_t)resp->len,
				"binary", resp->len > 0 && body == NULL);
	if (body)
		json_object_set_new(rec, "body", body);
	json_object_set_new(rec, "headers", header_object(resp));
	json_array_append_new(r->responses, rec);
	free(bare);
}

static void run_case(struct run *r, json_t *c, size_t index)
{
	char fallback[32];
	snprintf(fallback, sizeof fallback, "#%zu", index + 1);
	const char *name = json_string_value(json_object_get(c, "name"));
	if (!name)
		name = fallback;
	const char *method = json_string_value(json_object_get(c, "method"));
	const char *path_t = json_string_value(json_object_get(c, "path"));
	if (!method || !path_t) {
		case_fail(r, name, "a case needs \"method\" and \"path\"");
		return;
	}
	const char *known[] = { "name", "as", "method", "path", "headers", "body", "raw",
				"raw_repeat", "content_type", "status", "expect", "expect_headers",
				"expect_text", "save", "comment", "must_fail", NULL };
	const char *k;
	json_t *v;
	json_object_foreach(c, k, v) {
		bool ok = false;
		for (const char *const *n = known; *n; n++)
			ok = ok || strcmp(*n, k) == 0;
		if (!ok)
			case_fail(r, name, "unknown member \"%s\"", k);
	}
	const char *as = json_string_value(json_object_get(c, "as"));
	const char *token = actor_token(r, as);
	if (!token) {
		case_fail(r, name, "no actor '%s'", as);
		return;
	}
	char *path = subst(r, name, path_t);
	if (!path)
		return;

	/* the request's headers: the case's own (substituted), then the
	 * actor's token and the body's type unless the case sets them */
	const char *lines[40];
	char *owned[40];
	int nl = 0, no = 0;
	bool has_auth = false, has_ct = false;
	json_object_foreach(json_object_get(c, "headers"), k, v) {
		char *val = json_is_string(v) ? subst(r, name, json_string_value(v)) : NULL;
		if (!val || nl >= 36) {
			if (!json_is_string(v) || nl >= 36)
				case_fail(r, name, "header %s: a string value, at most 36 headers", k);
			free(val);
			goto out;
		}
		owned[no] = cf_asprintf("%s: %s", k, val);
		lines[nl++] = owned[no++];
		free(val);
		has_auth = has_auth || strcasecmp(k, "Authorization") == 0;
		has_ct = has_ct || strcasecmp(k, "Content-Type") == 0;
	}
	if (!has_auth && *token) {
		owned[no] = cf_asprintf("Authorization: Bearer %s", token);
		lines[nl++] = owned[no++];
	}
	char *body = NULL;
	size_t blen = 0;
	json_t *jb = json_object_get(c, "body");
	json_t *raw = json_object_get(c, "raw");
	json_t *rep = json_object_get(c, "raw_repeat");
	const char *ctype = json_string_value(json_object_get(c, "content_type"));
	if (jb) {
		json_t *sb = subst_json(r, name, jb);
		if (!sb)
			goto out;
		body = json_dumps(sb, JSON_ENCODE_ANY | JSON_COMPACT);
		json_decref(sb);
		if (!ctype)
			ctype = "application/json";
	} else if (raw) {
		body = json_is_string(raw) ? subst(r, name, json_string_value(raw)) : NULL;
		if (!body) {
			if (!json_is_string(raw))
				case_fail(r, name, "\"raw\" must be a string");
			goto out;
		}
	} else if (rep) {
		const char *t = json_string_value(json_object_get(rep, "text"));
		json_int_t times = json_integer_value(json_object_get(rep, "times"));
		if (!t || !*t || times <= 0 || times > 64 * 1024 * 1024) {
			case_fail(r, name, "\"raw_repeat\" is {\"text\": non-empty, \"times\": 1..67108864}");
			goto out;
		}
		const char *pre = json_string_value(json_object_get(rep, "prefix"));
		const char *suf = json_string_value(json_object_get(rep, "suffix"));
		pre = pre ? pre : "";
		suf = suf ? suf : "";
		size_t tl = strlen(t), pl = strlen(pre), sl = strlen(suf);
		body = cf_malloc(pl + tl * (size_t)times + sl + 1);
		memcpy(body, pre, pl);
		for (json_int_t i = 0; i < times; i++)
			memcpy(body + pl + tl * (size_t)i, t, tl);
		memcpy(body + pl + tl * (size_t)times, suf, sl + 1);
	}
	if (body)
		blen = strlen(body);
	if (body && !has_ct && ctype) {
		owned[no] = cf_asprintf("Content-Type: %s", ctype);
		lines[nl++] = owned[no++];
	}
	lines[nl] = NULL;

	char *url = cf_asprintf("%s%s", r->w.srv.base, path);
	struct http_resp resp;
	http_do(&resp, method, url, lines, body, blen);
	free(url);
	record(r, name, method, path, &resp);

	json_t *want_status = json_object_get(c, "status");
	long expect_status = want_status ? (long)json_integer_value(want_status) : 200;
	json_t *doc = resp.len ? json_loadb(resp.body, resp.len, JSON_DECODE_ANY, NULL) : NULL;
	if (resp.status != expect_status)
		case_fail(r, name, "%s %s: status %ld, expected %ld: %.400s", method, path, resp.status,
		     expect_status, resp.body ? resp.body : "");
	if (json_object_get(c, "expect"))
		check_expect(r, name, json_object_get(c, "expect"), doc, &resp);
	if (json_object_get(c, "expect_headers"))
		check_headers(r, name, json_object_get(c, "expect_headers"), &resp);
	if (json_object_get(c, "expect_text"))
		check_text(r, name, json_object_get(c, "expect_text"), &resp);
	if (json_object_get(c, "save"))
		save(r, name, json_object_get(c, "save"), doc, &resp);
	json_decref(doc);
	http_resp_free(&resp);
	free(body);
out:
	for (int i = 0; i < no; i++)
		free(owned[i]);
	free(path);
}

/* The group of a file: its name without directory and ".json". */
static void group_of(const char *file, char *out, size_t size)
{
	const char *b = strrchr(file, '/');
	b = b ? b + 1 : file;
	snprintf(out, size, "%.*s", (int)strcspn(b, "."), b);
}

START_TEST(api_file)
{
	struct run r;
	memset(&r, 0, sizeof r);
	r.file = files[_i];
	char *path = tsupport_source_path(r.file);
	size_t len;
	char *text = tsupport_read_file(path, &len);
	json_error_t jerr;
	json_t *doc = json_loadb(text, len, 0, &jerr);
	ck_assert_msg(doc != NULL, "%s:%d: %s", r.file, jerr.line, jerr.text);
	free(text);
	json_t *cases = json_object_get(doc, "cases");
	ck_assert_msg(json_is_array(cases) && json_array_size(cases) > 0,
		      "%s: \"cases\" must be a non-empty array", r.file);
	ck_assert_msg(json_is_string(json_object_get(doc, "title")), "%s: \"title\" is missing", r.file);

	/* conformd's settings for this file ("env": {"CONFORM_X": "v"}) */
	const char *env[16];
	char *env_owned[16];
	int ne = 0;
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(doc, "env"), k, v) {
		ck_assert_msg(json_is_string(v) && ne < 15, "%s: env values are strings (at most 15)",
			      r.file);
		env[ne] = env_owned[ne] = cf_asprintf("%s=%s", k, json_string_value(v));
		ne++;
	}
	env[ne] = NULL;

	char group[128], suite[160];
	group_of(r.file, group, sizeof group);
	snprintf(suite, sizeof suite, "api_%s", group);
	for (char *p = suite; *p; p++)
		if (!isalnum((unsigned char)*p))
			*p = '_';
	world_create(&r.w, suite, env);
	char other_body[37];
	world_org(&r.w, "assessment_body", "Other Lab (not accredited)", other_body);
	r.other_body_admin = *world_org_admin(&r.w, other_body);
	buf_init(&r.failures, (size_t)1 << 24);
	r.faults = json_object();
	r.vars = json_object();
	r.responses = json_array();
	presave(&r);
	if (json_object_get(doc, "given"))
		given(&r, json_object_get(doc, "given"));

	size_t i;
	json_t *c;
	json_array_foreach(cases, i, c)
		run_case(&r, c, i);

	/* every answer against docs/openapi.json, in one node run */
	char name[192];
	snprintf(name, sizeof name, "api-%s-responses.json", group);
	char *dump = json_dumps(r.responses, JSON_INDENT(1));
	char *rpath = testsrv_write_artifact(name, dump);
	free(dump);
	char *spec = tsupport_source_path("docs/openapi.json");
	char *out = NULL;
	int st = tsupport_node("api-check.mjs", spec, rpath, &out);
	if (st != 0) {
		if (buf_printf(&r.failures, NULL, "%s: docs/openapi.json (answers kept in %s):\n%s",
			       r.file, rpath, out))
			ck_abort_msg("too many failures to list");
		r.nfailed++;
		note_checker_faults(&r, cases, out);
	}
	if (json_is_true(json_object_get(doc, "selftest")))
		judge_selftest(&r, cases);
	free(out);
	free(spec);
	free(rpath);

	world_destroy(&r.w);
	for (int e = 0; e < ne; e++)
		free(env_owned[e]);
	json_decref(r.vars);
	json_decref(r.faults);
	json_decref(r.responses);
	json_decref(doc);
	free(path);
	if (r.nfailed)
		fprintf(stderr, "%s", buf_str(&r.failures));
	ck_assert_msg(r.nfailed == 0, "%s: %d failure(s):\n%s", r.file, r.nfailed,
		      buf_str(&r.failures));
	buf_free(&r.failures);
}
END_TEST

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	if (argc > 1) {
		for (int i = 1; i < argc && nfiles < MAX_FILES; i++)
			files[nfiles++] = cf_strdup(argv[i]);
	} else {
		char *dir = tsupport_source_path("tests/api");
		char *pattern = cf_asprintf("%s/*.json", dir);
		glob_t g;
		if (glob(pattern, 0, NULL, &g) == 0) {
			for (size_t i = 0; i < g.gl_pathc && nfiles < MAX_FILES; i++) {
				const char *b = strrchr(g.gl_pathv[i], '/');
				files[nfiles++] = cf_asprintf("tests/api/%s", b + 1);
			}
			globfree(&g);
		}
		free(pattern);
		free(dir);
	}
	if (nfiles == 0) {
		fprintf(stderr, "test_api: no tests/api/*.json\n");
		return 1;
	}
	qsort(files, (size_t)nfiles, sizeof files[0], by_name);
	Suite *s = suite_create("api");
	for (int i = 0; i < nfiles; i++) {
		group_of(files[i], groups[i], sizeof groups[i]);
		TCase *tc = tcase_create(groups[i]);
		tcase_set_timeout(tc, 600);
		tcase_add_loop_test(tc, api_file, i, i + 1);
		suite_add_tcase(s, tc);
	}
	int rc = tsupport_run(s);
	for (int i = 0; i < nfiles; i++)
		free(files[i]);
	return rc;
}
