/*
 * Hostile input over every operation of docs/openapi.json: each path
 * parameter replaced by malformed ids, each declared query parameter set to
 * huge, negative, empty and badly encoded values, and each JSON body made
 * not JSON, badly encoded, too deep, with huge numbers, wrong types and huge
 * strings. The rule is simple: never a 5xx, never a dropped connection, and
 * every 4xx is application/problem+json (a 2xx is fine where the input is
 * legitimately acceptable, such as an ignored query value). The caller is a
 * person whose role the operation's x-conform-access admits, so the input
 * reaches the parsers behind authentication.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "mem.h"
#include "tsupport.h"
#include "world.h"

static struct world w;
static char app_draft[37], app_eval[37], serial[40];

/* Counters for the report, and the failures collected over the whole walk
 * (one failure does not hide the others). */
static int nops, nrequests, nfailures, nclass[6], nauth;
/* The 4xx media type of an operation whose answers are pages for people
 * (its 200 is declared text/html only, e.g. GET /verify/{serial}): a browser
 * is shown a page, not a problem document. NULL: problem+json. */
static const char *page_type;

struct sb {
	char *s;
	size_t len, cap;
};

static void sb_add(struct sb *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = cf_realloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void sb_str(struct sb *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_fmt(struct sb *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	ck_assert(n >= 0 && (size_t)n < sizeof tmp);
	sb_add(b, tmp, (size_t)n);
}

static json_t *doc;

/* Follows a local "$ref" (borrowed reference). */
static json_t *deref(json_t *v)
{
	for (int i = 0; i < 8 && json_is_object(v); i++) {
		const char *ref = json_string_value(json_object_get(v, "$ref"));
		if (!ref || strncmp(ref, "#/", 2) != 0)
			break;
		json_t *cur = doc;
		char *copy = cf_strdup(ref + 2), *save = NULL;
		for (char *tok = strtok_r(copy, "/", &save); tok && cur; tok = strtok_r(NULL, "/", &save))
			cur = json_object_get(cur, tok);
		free(copy);
		ck_assert_msg(cur != NULL, "dangling $ref %s", ref);
		v = cur;
	}
	return v;
}

static const struct actor *actor_named(const char *role)
{
	static const struct {
		const char *name;
		size_t off;
	} map[] = {
		{ "admin", offsetof(struct world, admin) },
		{ "accreditor", offsetof(struct world, accreditor) },
		{ "assessor", offsetof(struct world, assessor) },
		{ "certifier", offsetof(struct world, certifier) },
		{ "applicant", offsetof(struct world, applicant) },
		{ "org_admin", offsetof(struct world, body_admin) },
	};
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(map[i].name, role) == 0)
			return (const struct actor *)((const char *)&w + map[i].off);
	ck_abort_msg("x-conform-access names an unknown role %s", role);
	return NULL;
}

/* The first role the operation admits (NULL: public). */
static const struct actor *caller_of(json_t *op)
{
	json_t *acc = json_object_get(op, "x-conform-access");
	if (json_is_string(acc))
		return NULL;
	ck_assert_msg(json_is_array(acc) && json_array_size(acc) > 0, "no x-conform-access");
	json_t *roles = json_object_get(json_array_get(acc, 0), "roles");
	return actor_named(json_string_value(json_array_get(roles, 0)));
}

/* A well-formed value of a path parameter, so that the other parameters'
 * and the body's hostile values reach their parsers. */
static const char *valid_param(const char *pattern, const char *name, const struct actor *who)
{
	static const char *const unknown = "0b5c1f3e-7a52-4d0e-9c1e-2f4a7b9d1e30";
	if (strcmp(name, "serial") == 0)
		return serial;
	if (strcmp(name, "version") == 0)
		return "2018";
	if (strcmp(name, "action") == 0)
		return "submit";
	if (strcmp(name, "purpose") == 0)
		return "revocation";
	if (strcmp(name, "ref") == 0)
		return "1";
	if (strcmp(name, "eid") == 0)
		return unknown;
	/* {id} */
	if (strncmp(pattern, "/v1/schemes/", 12) == 0)
		return "dcms-cop";
	if (strncmp(pattern, "/v1/organisations/", 18) == 0)
		return who ? who->org : w.admin.org;
	if (strncmp(pattern, "/v1/users/", 10) == 0)
		return who ? who->user : w.admin.user;
	if (strncmp(pattern, "/v1/accreditations/", 19) == 0)
		return w.accreditation_dcms;
	if (strncmp(pattern, "/v1/bodies/", 11) == 0 || strncmp(pattern, "/bodies/", 8) == 0)
		return w.certifier.org;
	if (strncmp(pattern, "/v1/products/", 13) == 0)
		return world_product(&w);
	/* the applicant's own draft; one in evaluation at the body for its people */
	if (strncmp(pattern, "/v1/applications/", 17) == 0)
		return who == &w.applicant ? app_draft : app_eval;
	if (strncmp(pattern, "/v1/keys/", 9) == 0)
		return w.body_kid;
	return unknown;
}

static char big_id[10 * 1024 + 1];
static const char *const bad_ids[] = { "not-a-uuid", "..%2F..", big_id, "%00", "%C3%28",
				       "99999999999999999999999", "%", "%zz", "%E2%80%AE%0A", "." };
enum { NBAD_IDS = sizeof bad_ids / sizeof bad_ids[0] };
static const char *const bad_queries[] = { "9223372036854775807", "-9223372036854775808", "1e309",
					   "99999999999999999999999", "-1", "%C3%28", "",
					   "not-a-uuid", "%00", "%", "1&limit=-1&after=%FF",
					   "9999-99-99", "infinity", "294277-01-01T00:00:00Z",
					   "2026-01-01T25:61:61Z" };
enum { NBAD_QUERIES = sizeof bad_queries / sizeof bad_queries[0] };

/* Builds the path of pattern with the parameter named bad_name (NULL: none)
 * replaced by bad_value. */
static void build_path(struct sb *b, const char *pattern, const struct actor *who,
		       const char *bad_name, const char *bad_value)
{
	for (const char *p = pattern; *p;) {
		if (*p != '{') {
			sb_add(b, p, 1);
			p++;
			continue;
		}
		const char *end = strchr(p, '}');
		ck_assert(end != NULL);
		char name[32];
		snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
		if (bad_name && strcmp(name, bad_name) == 0)
			sb_str(b, bad_value);
		else
			sb_str(b, valid_param(pattern, name, who));
		p = end + 1;
	}
}

static const char *extra_header; /* one more "Name: value" line, or NULL */
/* The application whose current ETag goes in If-Match when the operation
 * declares it (NULL: none), so that the body reaches its parser rather than
 * stopping at 428. */
static const char *etag_of;

/* Sends one hostile request and judges the answer. */
static void send_one(const char *method, const char *path, const struct actor *who,
		     const char *ctype, const char *body, size_t len, const char *what)
{
	struct sb url = { 0 };
	sb_str(&url, w.srv.base);
	sb_str(&url, path);
	char auth[96], ct[96];
	const char *headers[5];
	int nh = 0;
	if (who) {
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", who->token);
		headers[nh++] = auth;
	}
	if (ctype) {
		snprintf(ct, sizeof ct, "Content-Type: %s", ctype);
		headers[nh++] = ct;
	}
	char im[64];
	if (extra_header) {
		headers[nh++] = extra_header;
	} else if (etag_of) {
		char tag[24];
		world_etag(&w, etag_of, tag);
		snprintf(im, sizeof im, "If-Match: %s", tag);
		headers[nh++] = im;
	}
	headers[nh] = NULL;
	struct http_resp r;
	int rc = http_try(&r, method, url.s, headers, body, body ? len : 0);
	nrequests++;
	char shown[160];
	snprintf(shown, sizeof shown, "%s %.100s%s", method, path, strlen(path) > 100 ? "..." : "");
	if (rc != 0) {
		fprintf(stderr, "HOSTILE FAIL %s [%s]: connection failed (curl %d)\n", shown, what, rc);
		nfailures++;
	} else if (r.status >= 500 || r.status < 200) {
		fprintf(stderr, "HOSTILE FAIL %s [%s]: %ld %.300s\n", shown, what, r.status, r.body);
		nfailures++;
	} else if (r.status >= 400) {
		char type[128];
		const char *want = "application/problem+json";
		if (!http_header(&r, "Content-Type", type, sizeof type) ||
		    (strncasecmp(type, want, strlen(want)) != 0 &&
		     (!page_type || strncasecmp(type, page_type, strlen(page_type)) != 0))) {
			fprintf(stderr, "HOSTILE FAIL %s [%s]: %ld is not problem+json (%s)\n", shown,
				what, r.status, http_header(&r, "Content-Type", type, sizeof type) ? type : "none");
			nfailures++;
		} else if (!page_type || strncasecmp(type, "application/problem+json", 24) == 0) {
			/* a problem a client can read: its type and a detail */
			json_t *pj = json_loadb(r.body, r.len, 0, NULL);
			if (!json_is_string(json_object_get(pj, "type")) ||
			    !json_is_string(json_object_get(pj, "detail"))) {
				fprintf(stderr, "HOSTILE FAIL %s [%s]: %ld problem without type or detail: %.200s\n",
					shown, what, r.status, r.body);
				nfailures++;
			}
			json_decref(pj);
		}
	}
	if (rc == 0) {
		nclass[r.status / 100 < 6 ? r.status / 100 : 0]++;
		nauth += r.status == 401 || r.status == 403;
		if (getenv("HOSTILE_VERBOSE"))
			fprintf(stderr, "hostile %ld %s [%s]\n", r.status, shown, what);
		http_resp_free(&r);
	}
	free(url.s);
}

/* The operation's parameters (path item's and its own), dereferenced, in
 * a new array. */
static json_t *params_of(json_t *item, json_t *op)
{
	json_t *all = json_array();
	json_t *lists[2] = { json_object_get(item, "parameters"), json_object_get(op, "parameters") };
	for (int k = 0; k < 2; k++) {
		size_t i;
		json_t *p;
		json_array_foreach(lists[k], i, p)
			json_array_append(all, deref(p));
	}
	return all;
}

/* Collects the declared properties of a body schema (through $ref, allOf,
 * oneOf and anyOf) into props: name -> its schema. */
static void collect_props(json_t *schema, json_t *props, int depth)
{
	schema = deref(schema);
	if (!json_is_object(schema) || depth > 4)
		return;
	const char *name;
	json_t *p;
	json_object_foreach(json_object_get(schema, "properties"), name, p)
		json_object_set(props, name, deref(p));
	static const char *const combos[] = { "allOf", "oneOf", "anyOf" };
	for (size_t k = 0; k < 3; k++) {
		size_t i;
		json_t *sub;
		json_array_foreach(json_object_get(schema, combos[k]), i, sub)
			collect_props(sub, props, depth + 1);
	}
}

static const char *type_of(json_t *schema)
{
	json_t *t = json_object_get(schema, "type");
	if (json_is_string(t))
		return json_string_value(t);
	if (json_is_array(t))
		for (size_t i = 0; i < json_array_size(t); i++)
			if (strcmp(json_string_value(json_array_get(t, i)), "null") != 0)
				return json_string_value(json_array_get(t, i));
	return "any";
}

/* Sends pre {"name": <raw JSON text>} post: the property at any depth. */
static const char *pre = "", *post = "";

static void send_prop(const char *method, const char *path, const struct actor *who,
		      const char *name, const char *raw, size_t rawlen, const char *what)
{
	struct sb b = { 0 };
	sb_str(&b, pre);
	sb_fmt(&b, "{\"%s\":", name);
	sb_add(&b, raw, rawlen);
	sb_str(&b, "}");
	sb_str(&b, post);
	char label[160];
	snprintf(label, sizeof label, "%.40s%s: %s", pre, name, what);
	send_one(method, path, who, "application/json", b.s, b.len, label);
	free(b.s);
}

static void prop_variants(const char *method, const char *path, const struct actor *who,
			  json_t *schema, const struct sb *huge, int depth);

/* The variants of the properties of an object nested in the body: wrapped
 * as {"name": {...}} or {"name": [{...}]}. */
static void nested_variants(const char *method, const char *path, const struct actor *who,
			    const char *name, json_t *schema, bool in_array, const struct sb *huge,
			    int depth)
{
	const char *saved_pre = pre, *saved_post = post;
	struct sb np = { 0 }, nq = { 0 };
	sb_str(&np, pre);
	sb_fmt(&np, "{\"%s\":%s", name, in_array ? "[" : "");
	sb_str(&nq, in_array ? "]}" : "}");
	sb_str(&nq, post);
	pre = np.s;
	post = nq.s;
	prop_variants(method, path, who, schema, huge, depth + 1);
	pre = saved_pre;
	post = saved_post;
	free(np.s);
	free(nq.s);
}

static void prop_variants(const char *method, const char *path, const struct actor *who,
			  json_t *schema, const struct sb *huge, int depth)
{
	json_t *props = json_object();
	collect_props(schema, props, 0);
	static const char *const numbers[] = { "9223372036854775807", "-9223372036854775808",
					       "99999999999999999999999", "1e309", "-1", "1.5e300",
					       "-0" };
	static const struct {
		const char *kind, *raw;
	} wrong[] = { { "string", "\"x\"" }, { "integer", "7" }, { "number", "0.5" },
		      { "boolean", "true" },  { "null", "null" }, { "array", "[1,\"x\",{}]" },
		      { "object", "{\"a\":[]}" } };
	static const char *const bad_strings[] = { "\"\xC3\x28\"", "\"\\ud800\"", "\"a\\u0000b\"",
						   "\"\xFF\xFE\"", "\"\"" };
	/* dates and times the database may take differently from the server */
	static const char *const bad_dates[] = { "\"9999-99-99\"", "\"2026-02-30\"", "\"infinity\"",
						 "\"-infinity\"", "\"99999999-01-01T00:00:00Z\"",
						 "\"0000-01-01\"", "\"2026-01-01T25:61:61Z\"",
						 "\"294277-01-01T00:00:00Z\"", "\"epoch\"",
						 "\"4714-11-24 BC\"" };
	const char *name;
	json_t *p;
	json_object_foreach(props, name, p) {
		const char *t = type_of(p);
		for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; i++) {
			if (strcmp(t, wrong[i].kind) == 0 ||
			    (strcmp(t, "number") == 0 && strcmp(wrong[i].kind, "integer") == 0))
				continue;
			send_prop(method, path, who, name, wrong[i].raw, strlen(wrong[i].raw), wrong[i].kind);
		}
		if (strcmp(t, "integer") == 0 || strcmp(t, "number") == 0 || strcmp(t, "any") == 0)
			for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
				send_prop(method, path, who, name, numbers[i], strlen(numbers[i]), numbers[i]);
		if (strcmp(t, "string") == 0 || strcmp(t, "any") == 0) {
			for (size_t i = 0; i < sizeof bad_strings / sizeof bad_strings[0]; i++)
				send_prop(method, path, who, name, bad_strings[i], strlen(bad_strings[i]),
					  "bad string");
			send_prop(method, path, who, name, huge->s, huge->len, "100 KB string");
			/* every string: not every date is declared with a format */
			for (size_t i = 0; i < sizeof bad_dates / sizeof bad_dates[0]; i++)
					send_prop(method, path, who, name, bad_dates[i], strlen(bad_dates[i]),
						  bad_dates[i]);
		}
		if (strcmp(t, "array") == 0) {
			/* huge numbers and bad strings as items */
			static const char *const items[] = { "[99999999999999999999999]",
							     "[9223372036854775807]", "[\"\xC3\x28\"]",
							     "[null]", "[[[[[]]]]]" };
			for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
				send_prop(method, path, who, name, items[i], strlen(items[i]), items[i]);
			json_t *it = deref(json_object_get(p, "items"));
			if (depth < 2 && it && strcmp(type_of(it), "object") == 0)
				nested_variants(method, path, who, name, it, true, huge, depth);
		}
		if (strcmp(t, "object") == 0 && depth < 2)
			nested_variants(method, path, who, name, p, false, huge, depth);
	}
	json_decref(props);
}

static void body_variants(const char *method, const char *path, const struct actor *who,
			  json_t *schema)
{
	/* not JSON, truncated, a scalar, bad UTF-8 outside and inside a string */
	static const char *const whole[] = { "not json", "{\"a\":", "42", "\"\xC3\x28\"",
					     "{\"\xC3\x28\":1}", "[]", "null", "{\"a\":1,\"a\":2}" };
	for (size_t i = 0; i < sizeof whole / sizeof whole[0]; i++)
		send_one(method, path, who, "application/json", whole[i], strlen(whole[i]), whole[i]);
	/* nesting far deeper than any limit, in an array and under a key */
	struct sb deep = { 0 };
	for (int i = 0; i < 5000; i++)
		sb_str(&deep, "[");
	for (int i = 0; i < 5000; i++)
		sb_str(&deep, "]");
	send_one(method, path, who, "application/json", deep.s, deep.len, "5000 levels");
	free(deep.s);
	struct sb deepk = { 0 };
	for (int i = 0; i < 100; i++)
		sb_str(&deepk, "{\"a\":");
	sb_str(&deepk, "1");
	for (int i = 0; i < 100; i++)
		sb_str(&deepk, "}");
	send_one(method, path, who, "application/json", deepk.s, deepk.len, "100 object levels");
	free(deepk.s);
	/* a 100 KB string under an unknown key */
	static char hundred_kb[100 * 1024 + 1];
	memset(hundred_kb, 'x', sizeof hundred_kb - 1);
	struct sb huge = { 0 };
	sb_str(&huge, "\"");
	sb_str(&huge, hundred_kb);
	sb_str(&huge, "\"");
	send_prop(method, path, who, "zz_unknown", huge.s, huge.len, "100 KB string");

	prop_variants(method, path, who, schema, &huge, 0);
	free(huge.s);
}

static void hostile_operation(const char *method, const char *pattern, json_t *item, json_t *op)
{
	const struct actor *who = caller_of(op);
	json_t *params = params_of(item, op);
	nops++;
	json_t *ok = json_object_get(json_object_get(json_object_get(op, "responses"), "200"), "content");
	page_type = json_object_size(ok) == 1 && json_object_get(ok, "text/html") ? "text/html" : NULL;
	json_t *body_schema = NULL;
	const char *raw_ctype = NULL;
	json_t *rb = deref(json_object_get(op, "requestBody"));
	if (rb) {
		json_t *c = json_object_get(rb, "content");
		json_t *js = json_object_get(c, "application/json");
		if (js)
			body_schema = json_object_get(js, "schema");
		else
			raw_ctype = "application/octet-stream";
	}
	/* a body that fits the declared content when the request is not about it */
	const char *plain = body_schema ? "{}" : raw_ctype ? "hostile evidence" : NULL;
	const char *plain_type = body_schema ? "application/json" : raw_ctype;

	size_t i;
	json_t *p;
	json_array_foreach(params, i, p) {
		const char *name = json_string_value(json_object_get(p, "name"));
		if (name && strcasecmp(name, "If-Match") == 0)
			etag_of = valid_param(pattern, "id", who);
	}
	json_array_foreach(params, i, p) {
		const char *in = json_string_value(json_object_get(p, "in"));
		const char *name = json_string_value(json_object_get(p, "name"));
		ck_assert_msg(in && name, "%s %s: a parameter without in or name", method, pattern);
		if (strcmp(in, "path") == 0) {
			for (int k = 0; k < NBAD_IDS; k++) {
				struct sb path = { 0 };
				build_path(&path, pattern, who, name, bad_ids[k]);
				char what[64];
				snprintf(what, sizeof what, "path %s=%.24s", name, bad_ids[k]);
				send_one(method, path.s, who, plain_type, plain, plain ? strlen(plain) : 0, what);
				free(path.s);
			}
		} else if (strcmp(in, "header") == 0) {
			static char big_header[8 * 1024 + 1];
			memset(big_header, 'a', sizeof big_header - 1);
			const char *const values[] = { "\"not-an-etag\"", "not-quoted", "\xC3\x28",
						       "99999999999999999999999", "W/\"\"", "*", big_header };
			for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
				struct sb path = { 0 }, h = { 0 };
				build_path(&path, pattern, who, NULL, NULL);
				sb_fmt(&h, "%s: ", name);
				sb_str(&h, values[k]);
				extra_header = h.s;
				char what[64];
				snprintf(what, sizeof what, "header %s=%.24s", name, values[k]);
				send_one(method, path.s, who, plain_type, plain, plain ? strlen(plain) : 0, what);
				extra_header = NULL;
				free(path.s);
				free(h.s);
			}
		} else if (strcmp(in, "query") == 0) {
			for (int k = 0; k < NBAD_QUERIES; k++) {
				struct sb path = { 0 };
				build_path(&path, pattern, who, NULL, NULL);
				sb_fmt(&path, "?%s=%s", name, bad_queries[k]);
				char what[64];
				snprintf(what, sizeof what, "query %s=%s", name, bad_queries[k]);
				send_one(method, path.s, who, plain_type, plain, plain ? strlen(plain) : 0, what);
				free(path.s);
			}
		}
	}
	if (body_schema) {
		struct sb path = { 0 };
		build_path(&path, pattern, who, NULL, NULL);
		body_variants(method, path.s, who, body_schema);
		free(path.s);
	}
	json_decref(params);
	etag_of = NULL;
	/* the server is still there and answers others */
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/health", NULL, NULL, 200));
}

START_TEST(every_operation_survives_hostile_input)
{
	static const char *const methods[] = { "get", "put", "post", "patch", "delete" };
	char *path = tsupport_source_path("docs/openapi.json");
	json_error_t e;
	doc = json_load_file(path, JSON_REJECT_DUPLICATES, &e);
	ck_assert_msg(doc != NULL, "%s: %s (line %d)", path, e.text, e.line);
	free(path);
	memset(big_id, 'a', sizeof big_id - 1);

	const char *pattern;
	json_t *item;
	json_object_foreach(json_object_get(doc, "paths"), pattern, item) {
		for (size_t k = 0; k < sizeof methods / sizeof methods[0]; k++) {
			json_t *op = json_object_get(item, methods[k]);
			if (!op)
				continue;
			char upper[8];
			size_t n = strlen(methods[k]);
			for (size_t j = 0; j <= n; j++)
				upper[j] = (char)(methods[k][j] >= 'a' ? methods[k][j] - 32 : methods[k][j]);
			hostile_operation(upper, pattern, item, op);
		}
	}
	json_decref(doc);
	fprintf(stderr, "hostile: %d operations, %d requests (2xx %d, 4xx %d, of which 401/403 %d), "
		"%d failures\n", nops, nrequests, nclass[2], nclass[4], nauth, nfailures);
	ck_assert_int_ge(nops, 70);
	ck_assert_int_eq(nfailures, 0);
}
END_TEST

static void setup(void)
{
	world_create(&w, "hostile", NULL);
	world_certificate(&w, serial);
	world_application(&w, "draft", app_draft);
	world_application(&w, "in_evaluation", app_eval);
}

static void teardown(void)
{
	world_destroy(&w);
}

int main(void)
{
	Suite *s = suite_create("hostile");
	TCase *tc = tcase_create("hostile");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, every_operation_survives_hostile_input);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
