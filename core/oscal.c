/*
 * oscal: OSCAL 1.1 catalog export (see oscal.h). The facts that shape it:
 * ids are tokens that start with a letter or underscore; a control that is
 * not withdrawn has a "statement" part; props outside the NIST namespace
 * carry their own "ns".
 */
#include "oscal.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "application.h"
#include "buf.h"
#include "db.h"
#include "jsonx.h"
#include "mem.h"

/* conform's namespace for version 5 UUIDs of OSCAL documents. */
static const unsigned char uuid_ns[16] = { 0xb5, 0xa1, 0xf6, 0xc2, 0x4e, 0x0d, 0x4c, 0x3a,
					   0x9b, 0x7e, 0x2f, 0x1d, 0x8c, 0x6a, 0x5e, 0x94 };

/* RFC 9562 section 5.5: SHA-1 of namespace || name, version 5. */
static cf_err uuid5(const char *name, char out[37], struct cf_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) == 1 &&
		 EVP_DigestUpdate(ctx, uuid_ns, sizeof uuid_ns) == 1 &&
		 EVP_DigestUpdate(ctx, name, strlen(name)) == 1 &&
		 EVP_DigestFinal_ex(ctx, md, &len) == 1;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return cf_error_set(err, CF_ECRYPTO, NULL, "SHA-1 is not available for a UUID");
	md[6] = (unsigned char)((md[6] & 0x0f) | 0x50);
	md[8] = (unsigned char)((md[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 md[0], md[1], md[2], md[3], md[4], md[5], md[6], md[7], md[8], md[9], md[10], md[11],
		 md[12], md[13], md[14], md[15]);
	return CF_OK;
}

static void token(const char *prefix, const char *s, char *out, size_t size)
{
	size_t n = (size_t)snprintf(out, size, "%s", prefix);
	for (; *s && n + 1 < size; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			  c == '.' || c == '-' || c == '_';
		out[n++] = ok ? c : '_';
	}
	out[n] = '\0';
}

void oscal_control_id(const char *ref, char *out, size_t size)
{
	token("req-", ref, out, size);
}

static json_t *prop(const char *name, const char *value, bool ours)
{
	json_t *p = json_pack("{s:s,s:s}", "name", name, "value", value);
	if (ours)
		json_object_set_new(p, "ns", json_string(OSCAL_NS));
	return p;
}

static json_t *control(const json_t *req)
{
	const char *ref = jsonx_str(req, "ref");
	char id[96], part_id[112];
	oscal_control_id(ref, id, sizeof id);
	json_t *props = json_array();
	json_array_append_new(props, prop("label", ref, false));
	json_t *app = json_object_get(req, "applicability");
	char appv[48];
	if (json_is_object(app))
		snprintf(appv, sizeof appv, "mandatory-from-class-%lld",
			 (long long)json_integer_value(json_object_get(app, "mandatory_from_class")));
	else
		snprintf(appv, sizeof appv, "advisory");
	json_array_append_new(props, prop("applicability", appv, true));
	json_t *kw = json_object_get(req, "keywords");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(kw, "primary"), i, v)
		json_array_append_new(props, prop("primary-keyword", json_string_value(v), true));
	json_array_foreach(json_object_get(kw, "secondary"), i, v)
		json_array_append_new(props, prop("keyword", json_string_value(v), true));
	json_array_foreach(json_object_get(req, "guidance"), i, v)
		json_array_append_new(props, prop("guidance-ref", json_string_value(v), true));
	json_array_foreach(json_object_get(req, "mappings"), i, v) {
		char *refs = NULL;
		size_t k;
		json_t *r;
		json_array_foreach(json_object_get(v, "refs"), k, r) {
			char *next = cf_asprintf("%s%s%s", refs ? refs : "", refs ? " " : "",
						 json_string_value(r));
			free(refs);
			refs = next;
		}
		char *value = cf_asprintf("%s %s %s", jsonx_str(v, "relationship"), jsonx_str(v, "to"),
					  refs);
		json_array_append_new(props, prop("mapping", value, true));
		free(value);
		free(refs);
	}
	const char *desc = jsonx_str(req, "description");
	snprintf(part_id, sizeof part_id, "%s_smt", id);
	json_t *parts = json_array();
	json_array_append_new(parts, json_pack("{s:s,s:s,s:s}", "id", part_id, "name", "statement",
					       "prose", desc ? desc : jsonx_str(req, "title")));
	const char *cond = jsonx_str(req, "condition");
	if (cond) {
		snprintf(part_id, sizeof part_id, "%s_cond", id);
		json_array_append_new(parts, json_pack("{s:s,s:s,s:s,s:s}", "id", part_id, "name",
						       "condition", "ns", OSCAL_NS, "prose", cond));
	}
	return json_pack("{s:s,s:s,s:o,s:o}", "id", id, "title", jsonx_str(req, "title"), "props",
			 props, "parts", parts);
}

cf_err oscal_catalog(const json_t *doc, const char *digest, const char *imported_at, json_t **out,
		     struct cf_error *err)
{
	char uuid[37];
	char *name = cf_asprintf("%s@%s#%s", jsonx_str(doc, "id"), jsonx_str(doc, "version"), digest);
	cf_err e = uuid5(name, uuid, err);
	free(name);
	if (e)
		return e;

	/* Groups in section order; a section's controls in requirement order. */
	json_t *groups = json_array();
	json_t *by_section = json_object();
	size_t i;
	json_t *s;
	json_array_foreach(json_object_get(doc, "sections"), i, s) {
		char gid[96];
		token("sec-", jsonx_str(s, "id"), gid, sizeof gid);
		json_t *props = json_array();
		json_array_append_new(props, prop("label", jsonx_str(s, "id"), false));
		if (jsonx_str(s, "audience"))
			json_array_append_new(props, prop("audience", jsonx_str(s, "audience"), true));
		json_t *g = json_pack("{s:s,s:s,s:o,s:[]}", "id", gid, "title", jsonx_str(s, "title"),
				      "props", props, "controls");
		json_array_append_new(groups, g);
		json_object_set(by_section, jsonx_str(s, "id"), g);
	}
	json_t *r;
	json_array_foreach(json_object_get(doc, "requirements"), i, r) {
		json_t *g = json_object_get(by_section, jsonx_str(r, "section"));
		json_array_append_new(json_object_get(g, "controls"), control(r));
	}
	/* OSCAL refuses empty arrays: a group without controls drops the key. */
	json_array_foreach(groups, i, s)
		if (json_array_size(json_object_get(s, "controls")) == 0)
			json_object_del(s, "controls");
	json_decref(by_section);

	char title[512];
	snprintf(title, sizeof title, "%s (%s %s)", jsonx_str(doc, "title"), jsonx_str(doc, "id"),
		 jsonx_str(doc, "version"));
	char dv[80];
	snprintf(dv, sizeof dv, "sha256:%s", digest);
	json_t *mprops = json_array();
	json_array_append_new(mprops, prop("scheme-id", jsonx_str(doc, "id"), true));
	json_array_append_new(mprops, prop("digest", dv, true));
	json_array_append_new(mprops, prop("publisher", jsonx_str(doc, "publisher"), true));
	json_t *metadata = json_pack("{s:s,s:s,s:s,s:s,s:o}", "title", title, "last-modified",
				     imported_at, "version", jsonx_str(doc, "version"), "oscal-version",
				     OSCAL_VERSION, "props", mprops);
	const char *coverage = jsonx_str(doc, "coverage");
	if (coverage)
		json_object_set_new(metadata, "remarks", json_string(coverage));
	*out = json_pack("{s:{s:s,s:o,s:o}}", "catalog", "uuid", uuid, "metadata", metadata, "groups",
			 groups);
	return CF_OK;
}

/* ---- assessment results ---- */

/* A prop value or a party name is an OSCAL string: no leading or trailing
 * white space, no line break. Runs of white space become one space; an
 * empty result is "-". New string. */
static char *oscal_string(const char *s)
{
	size_t n = strlen(s ? s : "");
	char *out = cf_malloc(n + 2);
	size_t k = 0;
	bool space = false;
	for (const char *c = s ? s : ""; *c; c++) {
		bool ws = *c == ' ' || *c == '\t' || *c == '\n' || *c == '\r' || *c == '\f' || *c == '\v';
		if (ws) {
			space = k > 0;
			continue;
		}
		if (space)
			out[k++] = ' ';
		space = false;
		out[k++] = *c;
	}
	if (k == 0)
		out[k++] = '-';
	out[k] = '\0';
	return out;
}

static json_t *sprop(const char *name, const char *value)
{
	char *v = oscal_string(value);
	json_t *p = prop(name, v, true);
	free(v);
	return p;
}

/* uuid5 of "<kind>:<id>" into out. */
static cf_err uuid_of(const char *kind, const char *id, char out[37], struct cf_error *err)
{
	char *name = cf_asprintf("%s:%s", kind, id);
	cf_err e = uuid5(name, out, err);
	free(name);
	return e;
}

static json_t *party(const char *uuid, const char *type, const char *name)
{
	char *n = oscal_string(name);
	json_t *p = json_pack("{s:s,s:s,s:s}", "uuid", uuid, "type", type, "name", n);
	free(n);
	return p;
}

/* The people of the application as parties (assessors of settled
 * verdicts), uuid by user id in *uuids. */
static cf_err people(struct db *db, const char *id, json_t *parties, json_t *uuids,
		     struct cf_error *err)
{
	const char *p[] = { id };
	PGresult *res = NULL;
	cf_err e = db_query_hot(db, &res, err,
		"SELECT DISTINCT v.assessor_id, u.name FROM current_verdict v"
		" JOIN app_user u ON u.id = v.assessor_id"
		" WHERE v.application_id = $1 AND v.verdict <> 'info_needed' ORDER BY 1", 1, p);
	for (int i = 0; !e && i < PQntuples(res); i++) {
		char u[37];
		e = uuid_of("party", db_value(res, i, 0), u, err);
		if (!e) {
			json_array_append_new(parties, party(u, "person", db_value(res, i, 1)));
			json_object_set_new(uuids, db_value(res, i, 0), json_string(u));
		}
	}
	PQclear(res);
	return e;
}

/*
 * One observation per evidence file the decision was based on (current at
 * the decision: uploaded before it, not superseded before it); the
 * observation's uuid by requirement ref in *by_ref (ref -> [uuid, ...]).
 */
static cf_err observations(struct db *db, const char *base, const char *id, json_t *obs,
			   json_t *by_ref, struct cf_error *err)
{
	const char *p[] = { id };
	PGresult *res = NULL;
	/* decided_at itself, not its text (seconds only): evidence uploaded in
	 * the same second as the decision is before it */
	cf_err e = db_query_hot(db, &res, err,
		"SELECT e.id, e.name, e.media_type, e.size, e.digest, " DB_TS("e.uploaded_at") ","
		" (SELECT json_agg(l.ref ORDER BY l.ref) FROM evidence_link l"
		"  WHERE l.evidence_id = e.id)::text"
		" FROM evidence e JOIN application_decision d ON d.application_id = e.application_id"
		" WHERE e.application_id = $1 AND e.uploaded_at <= d.decided_at"
		" AND (e.superseded_at IS NULL OR e.superseded_at > d.decided_at)"
		" ORDER BY e.uploaded_at, e.id", 1, p);
	for (int i = 0; !e && i < PQntuples(res); i++) {
		const char *eid = db_value(res, i, 0), *name = db_value(res, i, 1);
		const char *digest = db_value(res, i, 4);
		char u[37];
		e = uuid_of("observation", eid, u, err);
		if (e)
			break;
		json_t *refs = db_value(res, i, 6) ? json_loads(db_value(res, i, 6), 0, NULL) : NULL;
		char *list = NULL;
		size_t k;
		json_t *r;
		json_array_foreach(refs, k, r) {
			char *next = cf_asprintf("%s%s%s", list ? list : "", list ? ", " : "",
						 json_string_value(r));
			free(list);
			list = next;
			json_t *uu = json_object_get(by_ref, json_string_value(r));
			if (!uu) {
				uu = json_array();
				json_object_set_new(by_ref, json_string_value(r), uu);
			}
			json_array_append_new(uu, json_string(u));
		}
		char *href = cf_asprintf("%s/v1/applications/%s/evidence/%s", base, id, eid);
		char *desc = cf_asprintf("Evidence file %s (%s, %s bytes), given for %s.", name,
					 db_value(res, i, 2), db_value(res, i, 3), list ? list : "no requirement");
		char *rdesc = cf_asprintf("%s, SHA-256 %s", name, digest);
		char dv[80];
		snprintf(dv, sizeof dv, "sha256:%s", digest);
		json_t *rprops = json_array();
		json_array_append_new(rprops, prop("digest", dv, true));
		json_array_append_new(rprops, sprop("media-type", db_value(res, i, 2)));
		json_array_append_new(rprops, sprop("size", db_value(res, i, 3)));
		json_t *oprops = json_array();
		json_array_append_new(oprops, prop("evidence-id", eid, true));
		json_array_append_new(obs,
			json_pack("{s:s,s:s,s:s,s:o,s:[s],s:[{s:s,s:s,s:o}],s:s}", "uuid", u, "title", name,
				  "description", desc, "props", oprops, "methods", "EXAMINE",
				  "relevant-evidence", "href", href, "description", rdesc, "props", rprops,
				  "collected", db_value(res, i, 5)));
		free(href);
		free(desc);
		free(rdesc);
		free(list);
		json_decref(refs);
	}
	PQclear(res);
	return e;
}

/* The finding of a requirement with a settled verdict (NULL otherwise). */
static cf_err finding(const char *id, const json_t *req, const json_t *assessors,
		      const json_t *by_ref, json_t **out, struct cf_error *err)
{
	*out = NULL;
	const json_t *v = json_object_get(req, "verdict");
	const char *verdict = jsonx_str(v, "verdict");
	if (!verdict || strcmp(verdict, "info_needed") == 0)
		return CF_OK;
	const char *ref = jsonx_str(req, "ref");
	char u[37], cid[96], target[112];
	char *name = cf_asprintf("%s:%s", id, ref);
	cf_err e = uuid_of("finding", name, u, err);
	free(name);
	if (e)
		return e;
	oscal_control_id(ref, cid, sizeof cid);
	snprintf(target, sizeof target, "%s_smt", cid);
	bool pass = strcmp(verdict, "pass") == 0, na = strcmp(verdict, "not_applicable") == 0;
	json_t *status = json_pack("{s:s,s:s}", "state", pass || na ? "satisfied" : "not-satisfied",
				   "reason", pass ? "pass" : na ? "other" : "fail");
	if (na)
		json_object_set_new(status, "remarks",
				    json_string("The assessor judged the requirement not applicable."));
	json_t *tgt = json_pack("{s:s,s:s,s:s,s:o}", "type", "statement-id", "target-id", target,
				"title", jsonx_str(req, "title"), "status", status);
	if (na)
		json_object_set_new(tgt, "implementation-status",
				    json_pack("{s:s}", "state", "not-applicable"));
	json_t *props = json_array();
	json_array_append_new(props, prop("requirement", ref, true));
	json_array_append_new(props, prop("verdict", verdict, true));
	json_array_append_new(props, prop("applicability", jsonx_str(req, "applicability"), true));
	json_array_append_new(props, prop("recorded-at", jsonx_str(v, "recorded_at"), true));
	const char *basis = jsonx_str(v, "basis");
	if (basis)
		json_array_append_new(props, prop("basis", basis, true));
	const char *comment = jsonx_str(v, "comment");
	char *desc = comment && *comment ? cf_strdup(comment)
					 : cf_asprintf("The assessor's verdict on %s: %s.", ref, verdict);
	char *title = cf_asprintf("%s: %s", ref, jsonx_str(req, "title"));
	*out = json_pack("{s:s,s:s,s:s,s:o,s:o}", "uuid", u, "title", title, "description", desc,
			 "props", props, "target", tgt);
	free(desc);
	free(title);
	const char *who = json_string_value(json_object_get(assessors, jsonx_str(v, "assessor_id")));
	if (who)
		json_object_set_new(*out, "origins",
				    json_pack("[{s:[{s:s,s:s,s:s}]}]", "actors", "type", "party",
					      "actor-uuid", who, "role-id", "assessor"));
	const json_t *carried = json_object_get(req, "carried");
	if (basis && strcmp(basis, "carried") == 0 && json_is_object(carried)) {
		/* where the verdict came from: the requirements of the certificate carried from */
		struct buf b;
		buf_init(&b, 64u << 10);
		size_t k;
		json_t *o;
		json_array_foreach(json_object_get(carried, "origins"), k, o) {
			struct cf_error full; /* the cap: the remark names the first ones, and says so */
			if (buf_printf(&b, &full, "%s%s (%s)", k ? ", " : "", jsonx_str(o, "ref"),
				       jsonx_str(o, "relationship")) != CF_OK) {
				buf_reset(&b);
				if (buf_printf(&b, &full, "%zu requirements",
					       json_array_size(json_object_get(carried, "origins"))) != CF_OK)
					buf_reset(&b); /* cannot be: a number fits */
				break;
			}
		}
		char *said = cf_asprintf("The assessor accepted the verdict carried from %s of the "
					 "certificate the application carried from.", buf_str(&b));
		json_object_set_new(*out, "remarks", json_string(said));
		free(said);
		buf_free(&b);
	}
	json_t *seen = json_object_get(by_ref, ref);
	if (json_array_size(seen) > 0) {
		json_t *rel = json_array();
		size_t k;
		json_t *o;
		json_array_foreach(seen, k, o)
			json_array_append_new(rel, json_pack("{s:O}", "observation-uuid", o));
		json_object_set_new(*out, "related-observations", rel);
	}
	return CF_OK;
}

cf_err oscal_assessment_results(struct db *db, const char *public_url, const char *application_id,
				json_t **out, struct cf_error *err)
{
	*out = NULL;
	json_t *app = NULL, *parties = json_array(), *assessors = json_object();
	json_t *obs = json_array(), *by_ref = json_object(), *findings = json_array();
	json_t *controls = json_array();
	const char *base = public_url ? public_url : "";
	cf_err e = application_get(db, application_id, &app, err);
	if (e)
		goto out;
	const char *state = jsonx_str(app, "state");
	const json_t *d = json_object_get(app, "decision");
	if (strcmp(state, "decided") != 0 || !json_is_object(d)) {
		e = cf_error_set(err, CF_ESTATE, NULL,
				 "application %lld is %s: its OSCAL assessment results exist once it is "
				 "decided",
				 (long long)json_integer_value(json_object_get(app, "number")), state);
		goto out;
	}
	const char *id = jsonx_str(app, "id");
	const json_t *scheme = json_object_get(app, "scheme");
	const json_t *maker = json_object_get(app, "manufacturer");
	const json_t *body = json_object_get(app, "body");
	const json_t *product = json_object_get(app, "product");
	const char *decided_at = jsonx_str(d, "decided_at");
	bool self = json_is_true(json_object_get(d, "self_declaration"));

	/* parties: the manufacturer, the body, the assessors, the certifier */
	char doc_uuid[37], result_uuid[37], maker_uuid[37], body_uuid[37] = "", certifier_uuid[37] = "";
	e = uuid_of("assessment-results", id, doc_uuid, err);
	if (!e)
		e = uuid_of("result", id, result_uuid, err);
	if (!e)
		e = uuid_of("party", jsonx_str(maker, "id"), maker_uuid, err);
	if (!e && json_is_object(body))
		e = uuid_of("party", jsonx_str(body, "id"), body_uuid, err);
	const char *certifier_id = jsonx_str(json_object_get(d, "decided_by"), "id");
	if (!e && certifier_id)
		e = uuid_of("party", certifier_id, certifier_uuid, err);
	if (e)
		goto out;
	json_array_append_new(parties, party(maker_uuid, "organization", jsonx_str(maker, "name")));
	if (body_uuid[0])
		json_array_append_new(parties, party(body_uuid, "organization", jsonx_str(body, "name")));
	e = people(db, id, parties, assessors, err);
	if (e)
		goto out;
	if (certifier_uuid[0] && !json_object_get(assessors, certifier_id))
		json_array_append_new(parties, party(certifier_uuid, "person",
						     jsonx_str(json_object_get(d, "decided_by"), "name")));

	e = observations(db, base, id, obs, by_ref, err);
	if (e)
		goto out;
	size_t i;
	json_t *req;
	json_array_foreach(json_object_get(app, "requirements"), i, req) {
		char cid[96];
		oscal_control_id(jsonx_str(req, "ref"), cid, sizeof cid);
		json_array_append_new(controls, json_pack("{s:s}", "control-id", cid));
		json_t *f = NULL;
		e = finding(id, req, assessors, by_ref, &f, err);
		if (e)
			goto out;
		if (f)
			json_array_append_new(findings, f);
	}

	const char *sid = jsonx_str(scheme, "id"), *sver = jsonx_str(scheme, "version");
	long long number = (long long)json_integer_value(json_object_get(app, "number"));
	long long cls = (long long)json_integer_value(json_object_get(app, "class"));
	char num[24], clsv[24], dv[80];
	snprintf(num, sizeof num, "%lld", number);
	snprintf(clsv, sizeof clsv, "%lld", cls);
	snprintf(dv, sizeof dv, "sha256:%s", jsonx_str(d, "evidence_digest"));

	/* metadata */
	char *title = cf_asprintf("Assessment results of application %lld: %s %s against %s %s", number,
				  jsonx_str(product, "name"), jsonx_str(product, "model"), sid, sver);
	json_t *mprops = json_array();
	json_array_append_new(mprops, prop("application-id", id, true));
	json_array_append_new(mprops, prop("application-number", num, true));
	json_array_append_new(mprops, prop("scheme-id", sid, true));
	json_array_append_new(mprops, sprop("scheme-version", sver));
	json_array_append_new(mprops, prop("class", clsv, true));
	json_array_append_new(mprops, prop("assessment-type", jsonx_str(app, "assessment_type"), true));
	json_array_append_new(mprops, sprop("product-model", jsonx_str(product, "model")));
	json_array_append_new(mprops, sprop("hardware-version", jsonx_str(product, "hardware_version")));
	json_array_append_new(mprops, sprop("firmware-version", jsonx_str(product, "firmware_version")));
	json_t *roles = json_pack("[{s:s,s:s},{s:s,s:s},{s:s,s:s},{s:s,s:s}]", "id", "manufacturer",
				  "title", "Manufacturer", "id", "assessment-body", "title",
				  "Assessment body", "id", "assessor", "title", "Assessor", "id",
				  "certifier", "title", "Certifier");
	json_t *rparties = json_pack("[{s:s,s:[s]}]", "role-id", "manufacturer", "party-uuids",
				     maker_uuid);
	if (body_uuid[0])
		json_array_append_new(rparties, json_pack("{s:s,s:[s]}", "role-id", "assessment-body",
							  "party-uuids", body_uuid));
	json_t *metadata = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o,s:o,s:o}", "title", title,
				     "last-modified", decided_at, "version", "1", "oscal-version",
				     OSCAL_VERSION, "props", mprops, "roles", roles, "parties", parties,
				     "responsible-parties", rparties);
	parties = NULL;
	free(title);

	/* import-ap: the catalog the checklist comes from */
	char *ap = cf_asprintf("%s/v1/schemes/%s/versions/%s/oscal", base, sid, sver);
	json_t *import_ap = json_pack("{s:s,s:s}", "href", ap, "remarks",
		"conform keeps no separate assessment plan: an application is assessed against the "
		"checklist of its scheme version at its class, whose requirements are the controls of "
		"this OSCAL catalog.");
	free(ap);

	/* the decision, attested by the certifier (or the manufacturer's declaration) */
	const char *decision = jsonx_str(d, "decision");
	char *dtitle = self ? cf_asprintf("Declaration of conformity by the manufacturer")
			    : cf_asprintf("Certification decision: %s", decision);
	json_t *dparts = json_pack("[{s:s,s:s,s:s,s:s,s:[o,o,o]}]", "name", "decision", "ns", OSCAL_NS,
				   "title", dtitle, "prose", jsonx_str(d, "rationale"), "props",
				   prop("decision", decision, true), prop("decided-at", decided_at, true),
				   prop("evidence-digest", dv, true));
	free(dtitle);
	json_t *attestation = json_pack("{s:o}", "parts", dparts);
	const char *by = self ? maker_uuid : certifier_uuid;
	if (by[0])
		json_object_set_new(attestation, "responsible-parties",
				    json_pack("[{s:s,s:[s]}]", "role-id", self ? "manufacturer" : "certifier",
					      "party-uuids", by));

	char *rtitle = cf_asprintf("%s of application %lld", self ? "Self declaration" : "Evaluation",
				   number);
	char *rdesc = cf_asprintf(
		"%s of the product %s %s of %s (hardware %s, firmware %s) against %s %s at class %lld: "
		"%s.",
		self ? "The manufacturer's declaration" : "The assessment body's evaluation",
		jsonx_str(product, "name"), jsonx_str(product, "model"), jsonx_str(maker, "name"),
		jsonx_str(product, "hardware_version"), jsonx_str(product, "firmware_version"), sid,
		sver, cls, decision);
	const char *start = jsonx_str(app, "submitted_at");
	json_t *rprops = json_array();
	json_array_append_new(rprops, prop("decision", decision, true));
	json_array_append_new(rprops, prop("evidence-digest", dv, true));
	json_t *result = json_pack("{s:s,s:s,s:s,s:s,s:s,s:o,s:{s:[{s:s,s:o}]},s:[o]}", "uuid",
				   result_uuid, "title", rtitle, "description", rdesc, "start",
				   start ? start : jsonx_str(app, "created_at"), "end", decided_at, "props",
				   rprops, "reviewed-controls", "control-selections", "description",
				   "Every requirement of the scheme version's checklist.",
				   "include-controls", controls, "attestations", attestation);
	controls = NULL;
	free(rtitle);
	free(rdesc);
	/* OSCAL refuses empty arrays: a result without evidence or verdicts
	 * (a self declaration has no verdicts) drops the key. */
	if (json_array_size(obs) > 0)
		json_object_set(result, "observations", obs);
	if (json_array_size(findings) > 0)
		json_object_set(result, "findings", findings);
	*out = json_pack("{s:{s:s,s:o,s:o,s:[o]}}", "assessment-results", "uuid", doc_uuid, "metadata",
			 metadata, "import-ap", import_ap, "results", result);
out:
	json_decref(app);
	json_decref(parties);
	json_decref(assessors);
	json_decref(obs);
	json_decref(by_ref);
	json_decref(findings);
	json_decref(controls);
	return e;
}
