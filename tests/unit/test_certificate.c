/*
 * Unit tests of core/certificate.c against the suite's database, with the
 * certificate conformctl demo issued through a real conform-signer: issuing
 * again, who issues what, the answer and the credential read back, offline
 * verification of the JWS (and of a tampered one), the register's filters
 * and pages, the status at a moment, and the status changes as a state
 * machine (withdrawal last: it is final). A second world supersedes a
 * certificate by a newer one of the same product (delta recertification).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "certificate.h"
#include "coreworld.h"
#include "jsonx.h"
#include "jws.h"
#include "signer.h"
#include "statuslist.h"
#include "tsupport.h"

static struct coreworld f;

static void setup(void)
{
	coreworld_open(&f, "certificate");
	coreworld_demo(&f);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

static long long count(const char *sql, const char *param)
{
	char v[24];
	const char *p[] = { param };
	coreworld_value(&f, v, sizeof v, sql, param ? 1 : 0, param ? p : NULL);
	return atoll(v);
}

static cf_err change(const struct principal *who, const char *action, const char *text, json_t **out,
		     struct cf_error *err)
{
	json_t *body = coreworld_json(text);
	cf_err e = certificate_change(f.db, who, f.public_url, f.serial, action, body, out, err);
	json_decref(body);
	return e;
}

START_TEST(issuing_again_answers_the_same_certificate)
{
	struct cert_ctx ctx = { f.public_url, f.signer.socket };
	json_t *out = NULL;
	bool created = true;
	struct cf_error err;
	cf_err e = certificate_issue(f.db, &f.certifier, &ctx, f.application, &out, &created, &err);
	coreworld_expect("again", e, &err, CF_OK, NULL, NULL);
	ck_assert(!created);
	ck_assert_str_eq(jsonx_str(out, "serial"), f.serial);
	json_decref(out);
	ck_assert_int_eq(count("SELECT count(*) FROM certificate WHERE application_id = $1", f.application), 1);
	ck_assert_int_eq(count("SELECT count(*) FROM tlog_entry WHERE kind = 'issuance' AND serial = $1",
			       f.serial), 1);
}
END_TEST

START_TEST(only_a_certifier_of_the_body_issues_and_only_after_an_approval)
{
	struct cert_ctx ctx = { f.public_url, f.signer.socket };
	json_t *out = NULL;
	bool created = false;
	struct cf_error err;
	long long before = count("SELECT count(*) FROM certificate", NULL);
	coreworld_expect("assessor", certificate_issue(f.db, &f.assessor, &ctx, f.application, &out, &created,
						       &err), &err, CF_EFORBIDDEN, NULL, "certifiers");
	struct principal elsewhere = f.certifier;
	snprintf(elsewhere.org_id, sizeof elsewhere.org_id, "%s", f.accreditor.org_id);
	coreworld_expect("another body", certificate_issue(f.db, &elsewhere, &ctx, f.application, &out,
							   &created, &err), &err, CF_EFORBIDDEN, NULL, NULL);
	coreworld_expect("no application", certificate_issue(f.db, &f.certifier, &ctx,
							     "00000000-0000-4000-8000-000000000000", &out,
							     &created, &err), &err, CF_ENOTFOUND, NULL, NULL);
	/* a draft naming the body */
	char text[400];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"confidentiality\":\"basic\",\"integrity\":\"basic\",\"availability\":\"basic\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\"}", f.product, f.certifier.org_id);
	json_t *body = coreworld_json(text), *app = NULL;
	ck_assert(application_create(f.db, &f.applicant, body, APPLICATION_NO_QUOTA, &app, &err) == CF_OK);
	coreworld_expect("draft", certificate_issue(f.db, &f.certifier, &ctx, jsonx_str(app, "id"), &out,
						    &created, &err), &err, CF_ESTATE, NULL, "follows an approval");
	json_decref(app);
	json_decref(body);
	ck_assert_int_eq(count("SELECT count(*) FROM certificate", NULL), before);
}
END_TEST

START_TEST(the_answer_states_what_was_assessed_and_who_signed)
{
	json_t *c = NULL;
	struct cf_error err;
	ck_assert(certificate_get(f.db, f.public_url, f.serial, &c, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(c, "serial"), f.serial);
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	ck_assert(json_is_null(json_object_get(c, "status_reason_code")));
	json_t *issuer = json_object_get(c, "issuer");
	ck_assert_str_eq(jsonx_str(issuer, "body_id"), f.certifier.org_id);
	char did_tail[64];
	snprintf(did_tail, sizeof did_tail, ":bodies:%s", f.certifier.org_id);
	ck_assert(strncmp(jsonx_str(issuer, "id"), "did:web:127.0.0.1", 17) == 0);
	ck_assert_ptr_nonnull(strstr(jsonx_str(issuer, "id"), did_tail));
	ck_assert_ptr_nonnull(strstr(jsonx_str(json_object_get(c, "key"), "kid"), f.kid));
	/* the DID URL the JWS header names: <issuer DID>#<kid> */
	char method[512];
	snprintf(method, sizeof method, "%s#%s", jsonx_str(issuer, "id"),
		 jsonx_str(json_object_get(c, "key"), "kid"));
	ck_assert_str_eq(jsonx_str(json_object_get(c, "key"), "verification_method"), method);
	json_t *history = json_object_get(c, "history");
	ck_assert_uint_eq(json_array_size(history), 1);
	ck_assert_str_eq(jsonx_str(json_array_get(history, 0), "action"), "issued");
	json_decref(c);
	char body[37];
	ck_assert(certificate_issuer(f.db, f.serial, body, &err) == CF_OK);
	ck_assert_str_eq(body, f.certifier.org_id);
	coreworld_expect("unknown serial", certificate_issuer(f.db, "CF-2099-999999", body, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
	coreworld_expect("get unknown", certificate_get(f.db, f.public_url, "CF-2099-999999", &c, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
	/* the stored row says the same */
	struct cert_stored st;
	ck_assert(certificate_stored(f.db, f.serial, &st, &err) == CF_OK);
	ck_assert_str_eq(st.serial, f.serial);
	ck_assert_str_eq(st.status, "valid");
	ck_assert_str_eq(st.kid, f.kid);
	ck_assert_str_eq(st.accreditation_id, f.accreditation);
	ck_assert_int_eq(st.log_index, count("SELECT log_index FROM certificate WHERE serial = $1", f.serial));
	certificate_stored_clear(&st);
}
END_TEST

START_TEST(the_jws_verifies_and_a_changed_one_does_not)
{
	char *jws = NULL;
	struct cf_error err;
	ck_assert(certificate_jws(f.db, f.serial, &jws, &err) == CF_OK);
	json_t *v = NULL;
	ck_assert(certificate_verify(f.db, f.public_url, jws, &v, &err) == CF_OK);
	ck_assert(json_is_true(json_object_get(v, "signature_valid")));
	ck_assert(json_is_true(json_object_get(v, "in_register")));
	ck_assert_str_eq(jsonx_str(v, "serial"), f.serial);
	ck_assert_str_eq(jsonx_str(v, "status"), "valid");
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(v, "logged"), "index")),
			 count("SELECT log_index FROM certificate WHERE serial = $1", f.serial));
	json_decref(v);
	/* one character of the signature changed */
	size_t n = strlen(jws);
	jws[n - 2] = jws[n - 2] == 'A' ? 'B' : 'A';
	ck_assert(certificate_verify(f.db, f.public_url, jws, &v, &err) == CF_OK);
	ck_assert(json_is_false(json_object_get(v, "signature_valid")));
	json_decref(v);
	coreworld_expect("not a JWS", certificate_verify(f.db, f.public_url, "not.a.jws!", &v, &err), &err,
			 CF_EINVAL, NULL, NULL);
	free(jws);
	coreworld_expect("jws of nothing", certificate_jws(f.db, "CF-2099-999999", &jws, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
}
END_TEST

/* Is serial on a page of world's register for q? */
static bool listed_in(struct coreworld *world, const char *serial, struct cert_query q)
{
	json_t *page = NULL;
	struct cf_error err;
	if (!q.limit)
		q.limit = 50;
	cf_err e = certificate_register(world->db, &q, &page, &err);
	ck_assert_msg(e == CF_OK, "%s", err.detail);
	bool found = false;
	size_t i;
	json_t *item;
	json_array_foreach(json_object_get(page, "items"), i, item)
		found = found || strcmp(jsonx_str(item, "serial"), serial) == 0;
	json_decref(page);
	return found;
}

/* Is the suite's certificate on a page of the register for q? */
static bool listed(struct cert_query q)
{
	return listed_in(&f, f.serial, q);
}

START_TEST(the_register_filters_by_status_scheme_manufacturer_and_text)
{
	ck_assert(listed((struct cert_query){ 0 }));
	ck_assert(listed((struct cert_query){ .status = "valid" }));
	ck_assert(!listed((struct cert_query){ .status = "suspended" }));
	ck_assert(listed((struct cert_query){ .scheme = "dcms-cop" }));
	ck_assert(listed((struct cert_query){ .scheme = "dcms-cop@2018" }));
	ck_assert(!listed((struct cert_query){ .scheme = "iotsf-cf" }));
	ck_assert(listed((struct cert_query){ .q = "DB-1" }));
	ck_assert(listed((struct cert_query){ .q = "Doorbell" }));
	ck_assert(!listed((struct cert_query){ .q = "no product is called this" }));
	ck_assert(listed((struct cert_query){ .manufacturer = f.applicant.org_id }));
	ck_assert(!listed((struct cert_query){ .manufacturer = f.certifier.org_id }));
	json_t *page = NULL;
	struct cf_error err;
	struct cert_query bad = { .status = "revoked", .limit = 10 };
	coreworld_expect("status", certificate_register(f.db, &bad, &page, &err), &err, CF_EINVAL, NULL,
			 "status must be");
	/* a page ends where the next begins */
	struct cert_query one = { .limit = 1 };
	ck_assert(certificate_register(f.db, &one, &page, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 1);
	json_t *next = json_object_get(page, "next");
	if (count("SELECT count(*) FROM certificate", NULL) > 1)
		ck_assert(!json_is_null(next));
	else
		ck_assert(json_is_null(next));
	json_decref(page);
}
END_TEST

START_TEST(the_status_at_a_moment_expires_with_validity)
{
	json_t *now = NULL, *later = NULL;
	struct cf_error err;
	ck_assert(certificate_state(f.db, f.serial, NULL, &now, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(now, "status"), "valid");
	char until[40];
	coreworld_value(&f, until, sizeof until,
			"SELECT to_char(valid_until AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
		      " FROM certificate WHERE serial = $1", 1, (const char *const[]){ f.serial });
	ck_assert_msg(strncmp(jsonx_str(now, "next_change"), until, 19) == 0, "%s, not %s",
		      jsonx_str(now, "next_change"), until);
	ck_assert(certificate_state(f.db, f.serial, until, &later, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(later, "status"), "expired"); /* valid_until is the first instant not covered */
	ck_assert(json_is_null(json_object_get(later, "next_change")));
	json_decref(now);
	json_decref(later);
	coreworld_expect("no certificate", certificate_state(f.db, "CF-2099-999999", NULL, &now, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
}
END_TEST

START_TEST(a_change_states_a_known_reason)
{
	json_t *out = NULL;
	struct cf_error err;
	static const struct {
		const char *body, *pointer;
	} bad[] = {
		{ "{\"reason\":\"x\"}", "/reason_code" },
		{ "{\"reason_code\":\"other\"}", "/reason" },
		{ "{\"reason_code\":\"because\",\"reason\":\"x\"}", "/reason_code" },
		{ "{\"reason_code\":\"other\",\"reason\":\"x\",\"when\":\"now\"}", NULL },
		{ "{\"reason_code\":7,\"reason\":\"x\"}", "/reason_code" },
	};
	long long logged = count("SELECT count(*) FROM tlog_entry", NULL);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		coreworld_expect(bad[i].body, change(&f.certifier, "suspend", bad[i].body, &out, &err), &err,
				 CF_EINVAL, bad[i].pointer, NULL);
	/* another body's certifier, and a certificate that is not there */
	struct principal elsewhere = f.certifier;
	snprintf(elsewhere.org_id, sizeof elsewhere.org_id, "%s", f.accreditor.org_id);
	coreworld_expect("another body", change(&elsewhere, "suspend", "{\"reason_code\":\"other\",\"reason\":\"x\"}",
						&out, &err), &err, CF_EFORBIDDEN, NULL, NULL);
	json_t *body = coreworld_json("{\"reason_code\":\"other\",\"reason\":\"x\"}");
	coreworld_expect("nothing", certificate_change(f.db, &f.certifier, f.public_url, "CF-2099-999999",
						       "suspend", body, &out, &err), &err, CF_ENOTFOUND, NULL, NULL);
	json_decref(body);
	ck_assert_int_eq(count("SELECT count(*) FROM tlog_entry", NULL), logged);
	ck_assert_int_eq(count("SELECT count(*) FROM certificate_event WHERE serial = $1", f.serial), 1);
}
END_TEST

START_TEST(status_changes_follow_their_table_and_withdrawal_is_final)
{
	static const struct {
		const char *action, *code, *status;
		cf_err e;
	} steps[] = {
		{ "reinstate", "other", NULL, CF_ESTATE },
		{ "suspend", "nonconformity", "suspended", CF_OK },
		{ "suspend", "nonconformity", NULL, CF_ESTATE },
		{ "reinstate", "administrative", "valid", CF_OK },
		{ "suspend", "product_change", "suspended", CF_OK },
		{ "withdraw", "support_ended", "withdrawn", CF_OK },
		{ "reinstate", "other", NULL, CF_ESTATE },
		{ "withdraw", "other", NULL, CF_ESTATE },
		{ "suspend", "other", NULL, CF_ESTATE },
		{ "expire", "other", NULL, CF_ESTATE },
	};
	long long logged = count("SELECT count(*) FROM tlog_entry WHERE kind = 'status' AND serial = $1",
				 f.serial);
	int changed = 0;
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
		char text[160];
		snprintf(text, sizeof text, "{\"reason_code\":\"%s\",\"reason\":\"step %zu\"}", steps[i].code, i);
		json_t *out = NULL;
		struct cf_error err = { 0 };
		cf_err e = change(&f.certifier, steps[i].action, text, &out, &err);
		coreworld_expect(steps[i].action, e, &err, steps[i].e, NULL, NULL);
		if (e) {
			ck_assert_ptr_nonnull(strstr(err.extra, "\"state\""));
			continue;
		}
		changed++;
		ck_assert_str_eq(jsonx_str(out, "status"), steps[i].status);
		ck_assert_str_eq(jsonx_str(out, "status_reason_code"), steps[i].code);
		json_t *history = json_object_get(out, "history");
		ck_assert_uint_eq(json_array_size(history), (size_t)changed + 1);
		ck_assert_str_eq(jsonx_str(json_array_get(history, (size_t)changed), "reason_code"), steps[i].code);
		json_decref(out);
	}
	ck_assert_int_eq(changed, 4);
	/* each change is one log entry, one event and one audit record */
	ck_assert_int_eq(count("SELECT count(*) FROM tlog_entry WHERE kind = 'status' AND serial = $1",
			       f.serial), logged + 4);
	ck_assert_int_eq(count("SELECT count(*) FROM certificate_event WHERE serial = $1", f.serial), 5);
	ck_assert_int_eq(count("SELECT count(*) FROM audit_log WHERE object_type = 'certificate' AND"
			       " object_id = $1 AND action <> 'certificate.issue'", f.serial), 4);
	struct cert_query q = { .status = "withdrawn", .limit = 10 };
	json_t *page = NULL;
	struct cf_error err;
	ck_assert(certificate_register(f.db, &q, &page, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 1);
	json_decref(page);
}
END_TEST

/* After withdrawal (the test before): a key compromised since before the
 * certificate was signed makes it the key's, not the body's, statement,
 * which wins over every other status, in every surface. */
START_TEST(a_key_compromised_before_the_signature_wins_over_every_status)
{
	char since[32];
	coreworld_value(&f, since, sizeof since,
			"SELECT to_char((issued_at - interval '1 minute') AT TIME ZONE 'UTC',"
		      " 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM certificate WHERE serial = $1", 1,
		      (const char *const[]){ f.serial });
	json_t *out = NULL;
	struct cf_error err;
	struct audit_actor by = party_actor(&f.body_admin);
	coreworld_expect("another body's key", signer_compromise(f.db, &by, f.public_url, f.signer.socket, f.kid,
								 f.accreditor.org_id, since, "x", &out, &err),
		       &err, CF_ENOTFOUND, NULL, NULL);
	coreworld_expect("compromise", signer_compromise(f.db, &by, f.public_url, f.signer.socket, f.kid,
							 f.body_admin.org_id, since, "a stolen laptop", &out,
							 &err), &err, CF_OK, NULL, NULL);
	ck_assert_int_eq(json_integer_value(json_object_get(out, "certificates_signed_since")), 1);
	json_decref(out);
	coreworld_expect("twice", signer_compromise(f.db, &by, f.public_url, f.signer.socket, f.kid,
						    f.body_admin.org_id, since, "again", &out, &err), &err,
		       CF_ESTATE, NULL, NULL);
	json_t *state = NULL;
	ck_assert(certificate_state(f.db, f.serial, NULL, &state, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(state, "status"), "key_compromised");
	ck_assert(json_is_null(json_object_get(state, "next_change"))); /* final */
	json_decref(state);
	json_t *c = NULL;
	ck_assert(certificate_get(f.db, f.public_url, f.serial, &c, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(c, "status"), "key_compromised");
	ck_assert_str_eq(jsonx_str(c, "status_reason_code"), "key_compromised");
	json_decref(c);
	char *jws = NULL;
	ck_assert(certificate_jws(f.db, f.serial, &jws, &err) == CF_OK);
	json_t *v = NULL;
	ck_assert(certificate_verify(f.db, f.public_url, jws, &v, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(v, "status"), "key_compromised");
	ck_assert(json_is_true(json_object_get(json_object_get(v, "key"), "compromised")));
	json_decref(v);
	free(jws);
	ck_assert(listed((struct cert_query){ .status = "key_compromised" }));
	ck_assert(!listed((struct cert_query){ .status = "withdrawn" }));
	/* the revocation is an entry of the log, of kind key */
	ck_assert_int_eq(count("SELECT count(*) FROM tlog_entry WHERE kind = 'key' AND serial = $1", f.kid), 1);
}
END_TEST

/* Last: two more demos, each with its own body, manufacturer and
 * certificate. */
START_TEST(the_register_walks_every_certificate_once_in_order)
{
	char second[40], third[40];
	coreworld_demo_again(&f, second);
	coreworld_demo_again(&f, third);
	ck_assert_str_ne(second, third);
	PGresult *all = testdb_super_exec(&f.tdb, "SELECT serial, manufacturer_id FROM certificate ORDER BY seq");
	ck_assert_int_eq(PQntuples(all), 3);
	/* a page at a time, each certificate once, in the register's order */
	struct cert_query q = { .limit = 1 };
	char after[24] = "";
	int seen = 0;
	for (;;) {
		json_t *page = NULL;
		struct cf_error err;
		q.after = after[0] ? atoll(after) : 0;
		ck_assert(certificate_register(f.db, &q, &page, &err) == CF_OK);
		json_t *items = json_object_get(page, "items");
		if (json_array_size(items) == 0) {
			json_decref(page);
			break;
		}
		ck_assert_uint_eq(json_array_size(items), 1);
		ck_assert_int_lt(seen, 3);
		ck_assert_str_eq(jsonx_str(json_array_get(items, 0), "serial"), PQgetvalue(all, seen, 0));
		seen++;
		json_t *next = json_object_get(page, "next");
		if (json_is_null(next)) {
			json_decref(page);
			break;
		}
		snprintf(after, sizeof after, "%lld", (long long)json_integer_value(next));
		json_decref(page);
	}
	ck_assert_int_eq(seen, 3);
	/* each manufacturer sees its own */
	for (int i = 0; i < 3; i++) {
		json_t *page = NULL;
		struct cf_error err;
		struct cert_query mine = { .manufacturer = PQgetvalue(all, i, 1), .limit = 10 };
		ck_assert(certificate_register(f.db, &mine, &page, &err) == CF_OK);
		ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 1);
		ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(page, "items"), 0), "serial"),
				 PQgetvalue(all, i, 0));
		json_decref(page);
	}
	PQclear(all);
	/* a cache may keep the new one until its validity ends, and no longer */
	json_t *c = NULL;
	long long stale = 0;
	struct cf_error err;
	ck_assert(certificate_get_cacheable(f.db, f.public_url, third, &c, &stale, &err) == CF_OK);
	char until_ms[24];
	coreworld_value(&f, until_ms, sizeof until_ms,
			"SELECT (extract(epoch FROM valid_until) * 1000)::bigint FROM certificate WHERE serial = $1", 1,
			(const char *const[]){ third });
	ck_assert_int_eq(stale, atoll(until_ms));
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	json_decref(c);
}
END_TEST


/* ---- supersession: a world of its own, with a newer certificate of the
 * demo's product ---- */

static struct coreworld g;
static char older[40], newer[40];

/* A third-party application of the world's product, decided and issued:
 * its serial in serial. */
static void issue_another(char serial[40])
{
	char app[37];
	coreworld_application(&g, "third-party", "decided", app);
	struct cert_ctx ctx = { g.public_url, g.signer.socket };
	json_t *out = NULL;
	bool created = false;
	struct cf_error err;
	coreworld_expect("issue", certificate_issue(g.db, &g.certifier, &ctx, app, &out, &created, &err),
			 &err, CF_OK, NULL, NULL);
	ck_assert(created);
	snprintf(serial, 40, "%s", jsonx_str(out, "serial"));
	json_decref(out);
}

static void supersede_setup(void)
{
	coreworld_open(&g, "supersede");
	coreworld_demo(&g);
	snprintf(older, sizeof older, "%s", g.serial);
	issue_another(newer);
}

static void supersede_teardown(void)
{
	coreworld_destroy(&g);
}

struct supersession {
	const struct principal *p;
	const char *old_serial, *new_serial;
};

static cf_err supersede_tx(struct db *db, void *arg, struct cf_error *err)
{
	struct supersession *s = arg;
	return certificate_supersede(db, s->p, s->old_serial, s->new_serial, err);
}

/* certificate_supersede in a transaction of its own, as issue_tx calls it. */
static cf_err supersede(const struct principal *p, const char *old_serial, const char *new_serial,
			struct cf_error *err)
{
	struct supersession s = { p, old_serial, new_serial };
	return db_transaction(g.db, DB_READ_COMMITTED, supersede_tx, &s, err);
}

static long long gcount(const char *sql, const char *param)
{
	return coreworld_count(&g, sql, param);
}

static cf_err gchange(const char *serial, const char *action, const char *text, struct cf_error *err)
{
	json_t *body = coreworld_json(text), *out = NULL;
	cf_err e = certificate_change(g.db, &g.certifier, g.public_url, serial, action, body, &out, err);
	json_decref(body);
	json_decref(out);
	return e;
}

/* Is bit index of the body's status list for purpose set? */
static bool list_bit(const char *purpose, const char *serial)
{
	const char *p[] = { serial, purpose };
	char idx[16];
	coreworld_value(&g, idx, sizeof idx,
			"SELECT CASE $2 WHEN 'revocation' THEN revocation_index ELSE suspension_index END"
			" FROM certificate WHERE serial = $1", 2, p);
	struct cert_ctx ctx = { g.public_url, g.signer.socket };
	char *compact = NULL;
	struct cf_error err;
	coreworld_expect("status list", certificate_status_list(g.db, &ctx, g.body, purpose, &compact, &err),
			 &err, CF_OK, NULL, NULL);
	struct jws j;
	ck_assert(jws_parse(compact, 1u << 20, &j, &err) == CF_OK);
	json_t *cred = coreworld_json((const char *)j.payload);
	const char *encoded = jsonx_str(json_object_get(cred, "credentialSubject"), "encodedList");
	unsigned char *bits = NULL;
	ck_assert(statuslist_decode(encoded, &bits, &err) == CF_OK);
	bool set = statuslist_get(bits, (unsigned)atoi(idx));
	free(bits);
	json_decref(cred);
	jws_clear(&j);
	free(compact);
	return set;
}

/* Is serial on the first page of the register for status? */
static bool glisted(const char *status, const char *serial)
{
	return listed_in(&g, serial, (struct cert_query){ .status = status });
}

START_TEST(a_newer_certificate_supersedes_the_old_one_everywhere)
{
	struct cf_error err;
	long long logged = gcount("SELECT count(*) FROM tlog_entry", NULL);
	/* refused, and nothing written: itself, an older one, another body, no such certificate */
	coreworld_expect("itself", supersede(&g.certifier, older, older, &err), &err, CF_ESTATE, NULL, "itself");
	coreworld_expect("the older", supersede(&g.certifier, newer, older, &err), &err, CF_EUNPROCESSABLE,
			 NULL, "newer");
	struct principal elsewhere = g.certifier;
	snprintf(elsewhere.org_id, sizeof elsewhere.org_id, "%s", g.accreditor.org_id);
	coreworld_expect("another body", supersede(&elsewhere, older, newer, &err), &err, CF_EFORBIDDEN, NULL,
			 NULL);
	coreworld_expect("nothing", supersede(&g.certifier, "CF-2099-999999", newer, &err), &err, CF_ENOTFOUND,
			 NULL, NULL);
	coreworld_expect("no successor", supersede(&g.certifier, older, "CF-2099-999999", &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
	/* nobody sets it by hand: a reason code of supersession alone */
	coreworld_expect("by hand", gchange(older, "withdraw", "{\"reason_code\":\"superseded\",\"reason\":\"x\"}",
					    &err), &err, CF_EINVAL, "/reason_code", "never by hand");
	ck_assert_int_eq(gcount("SELECT count(*) FROM tlog_entry", NULL), logged);

	/* a suspended certificate may be superseded */
	coreworld_expect("suspend", gchange(older, "suspend", "{\"reason_code\":\"nonconformity\",\"reason\":\"x\"}",
					    &err), &err, CF_OK, NULL, NULL);
	ck_assert(list_bit("suspension", older));
	long long audited = gcount("SELECT count(*) FROM audit_log WHERE object_id = $1", older);
	coreworld_expect("supersede", supersede(&g.certifier, older, newer, &err), &err, CF_OK, NULL, NULL);

	/* the answer: superseded, naming its successor */
	json_t *c = NULL;
	ck_assert(certificate_get(g.db, g.public_url, older, &c, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(c, "status"), "superseded");
	ck_assert_str_eq(jsonx_str(c, "status_reason_code"), "superseded");
	char reason[80], url[256];
	snprintf(reason, sizeof reason, "superseded by %s", newer);
	ck_assert_str_eq(jsonx_str(c, "status_reason"), reason);
	json_t *by = json_object_get(c, "superseded_by");
	ck_assert_str_eq(jsonx_str(by, "serial"), newer);
	snprintf(url, sizeof url, "%s/v1/certificates/%s", g.public_url, newer);
	ck_assert_str_eq(jsonx_str(by, "url"), url);
	json_t *history = json_object_get(c, "history");
	json_t *last = json_array_get(history, json_array_size(history) - 1);
	ck_assert_str_eq(jsonx_str(last, "action"), "superseded");
	ck_assert_str_eq(jsonx_str(last, "reason_code"), "superseded");
	long long event_index = json_integer_value(json_object_get(last, "log_index"));

	/* the other builder (a first read in conformd) says the same */
	struct cert_stored st;
	ck_assert(certificate_stored(g.db, older, &st, &err) == CF_OK);
	ck_assert_str_eq(st.status, "superseded");
	struct certstate_row row = { st.status, st.issued_us, st.valid_until_us };
	struct certstate_key key = { 0 };
	struct certstate decided;
	certstate_decide(&row, &key, NULL, 0, st.issued_us + 1, &decided);
	ck_assert_str_eq(decided.status, "superseded");
	ck_assert_int_eq(decided.next_change_us, 0); /* final */
	struct cert_key_view view = { false, NULL, NULL, "did:example#k" };
	struct buf out, facts;
	buf_init(&out, 1u << 20);
	buf_init(&facts, 1u << 16);
	ck_assert(certificate_render(&st, &decided, &view, false, &out, &facts, &err) == CF_OK);
	json_t *rendered = coreworld_json(buf_str(&out)), *rfacts = coreworld_json(buf_str(&facts));
	ck_assert(json_equal(json_object_get(rendered, "superseded_by"), by));
	ck_assert(json_equal(json_object_get(rfacts, "superseded_by"), by));
	ck_assert_str_eq(jsonx_str(rendered, "status"), "superseded");
	json_decref(rendered);
	json_decref(rfacts);
	buf_free(&out);
	buf_free(&facts);
	certificate_stored_clear(&st);
	json_decref(c);
	/* the successor is superseded by nothing */
	ck_assert(certificate_get(g.db, g.public_url, newer, &c, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(c, "status"), "valid");
	ck_assert(json_is_null(json_object_get(c, "superseded_by")));
	json_decref(c);

	/* the log: one status entry that names both, its event and its feed item */
	ck_assert_int_eq(gcount("SELECT count(*) FROM tlog_entry", NULL), logged + 2); /* suspend, supersede */
	char entry[1024], idx[24];
	const char *p[] = { older };
	coreworld_value(&g, idx, sizeof idx, "SELECT max(idx) FROM tlog_entry WHERE serial = $1", 1, p);
	coreworld_value(&g, entry, sizeof entry, "SELECT entry FROM tlog_entry WHERE idx = $1::bigint", 1,
			(const char *const[]){ idx });
	json_t *e = coreworld_json(entry);
	ck_assert_str_eq(jsonx_str(e, "kind"), "status");
	ck_assert_str_eq(jsonx_str(e, "serial"), older);
	ck_assert_str_eq(jsonx_str(e, "status"), "superseded");
	ck_assert_str_eq(jsonx_str(e, "superseded_by"), newer);
	ck_assert_str_eq(jsonx_str(e, "reason_code"), "superseded");
	ck_assert_ptr_nonnull(jsonx_str(e, "at"));
	json_decref(e);
	ck_assert_int_eq(event_index, atoll(idx));
	ck_assert_int_eq(gcount("SELECT count(*) FROM certificate_event WHERE action = 'superseded'"
				" AND log_index = $1::bigint", idx), 1);
	char type[48];
	coreworld_value(&g, type, sizeof type, "SELECT type FROM feed_item WHERE idx = $1::bigint", 1,
			(const char *const[]){ idx });
	ck_assert_str_eq(type, "certificate.superseded");
	/* one audit record, naming the successor */
	ck_assert_int_eq(gcount("SELECT count(*) FROM audit_log WHERE object_id = $1", older), audited + 1);
	ck_assert_int_eq(gcount("SELECT count(*) FROM audit_log WHERE object_id = $1 AND action ="
				" 'certificate.supersede' AND details->>'superseded_by' IS NOT NULL", older), 1);

	/* offline it reads as revoked; suspension is over */
	ck_assert(list_bit("revocation", older));
	ck_assert(!list_bit("suspension", older));
	ck_assert(!list_bit("revocation", newer));

	/* the state, the register, verification, the counts */
	json_t *state = NULL;
	ck_assert(certificate_state(g.db, older, NULL, &state, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(state, "status"), "superseded");
	ck_assert(json_is_null(json_object_get(state, "next_change")));
	json_decref(state);
	ck_assert(glisted("superseded", older));
	ck_assert(!glisted("superseded", newer));
	ck_assert(!glisted("withdrawn", older));
	char *jws = NULL;
	ck_assert(certificate_jws(g.db, older, &jws, &err) == CF_OK);
	json_t *v = NULL;
	ck_assert(certificate_verify(g.db, g.public_url, jws, &v, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(v, "status"), "superseded");
	ck_assert(json_is_false(json_object_get(v, "valid")));
	ck_assert_str_eq(jsonx_str(json_object_get(v, "superseded_by"), "serial"), newer);
	json_decref(v);
	free(jws);
	json_t *counts = NULL;
	ck_assert(certificate_count_by_status(g.db, &counts, &err) == CF_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(counts, "superseded")), 1);
	json_decref(counts);
}
END_TEST

/* After the test before (older superseded by newer): supersession is final,
 * a withdrawn certificate stays withdrawn, one past its validity may be
 * superseded. */
START_TEST(a_withdrawn_or_superseded_certificate_is_not_superseded)
{
	struct cf_error err;
	char third[40], fourth[40];
	issue_another(third);
	long long logged = gcount("SELECT count(*) FROM tlog_entry", NULL);
	coreworld_expect("again", supersede(&g.certifier, older, third, &err), &err, CF_ESTATE, NULL, "superseded");
	ck_assert_ptr_nonnull(strstr(err.extra, "\"superseded\""));
	/* and no manual change takes it back */
	coreworld_expect("reinstate", gchange(older, "reinstate", "{\"reason_code\":\"other\",\"reason\":\"x\"}",
					      &err), &err, CF_ESTATE, NULL, "final");
	coreworld_expect("withdraw", gchange(older, "withdraw", "{\"reason_code\":\"other\",\"reason\":\"x\"}",
					     &err), &err, CF_ESTATE, NULL, NULL);
	ck_assert_int_eq(gcount("SELECT count(*) FROM tlog_entry", NULL), logged);

	/* past its validity: superseded all the same, and superseded wins over expired */
	PQclear(testdb_super_query(&g.tdb, "UPDATE certificate SET valid_from = now() - interval '2 days',"
				   " valid_until = now() - interval '1 day' WHERE serial = $1", 1,
				   (const char *const[]){ newer }));
	json_t *state = NULL;
	ck_assert(certificate_state(g.db, newer, NULL, &state, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(state, "status"), "expired");
	json_decref(state);
	coreworld_expect("expired", supersede(&g.certifier, newer, third, &err), &err, CF_OK, NULL, NULL);
	ck_assert(certificate_state(g.db, newer, NULL, &state, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(state, "status"), "superseded");
	json_decref(state);

	/* withdrawn: final, never superseded */
	coreworld_expect("withdraw", gchange(third, "withdraw", "{\"reason_code\":\"other\",\"reason\":\"x\"}",
					     &err), &err, CF_OK, NULL, NULL);
	issue_another(fourth);
	logged = gcount("SELECT count(*) FROM tlog_entry", NULL);
	coreworld_expect("withdrawn", supersede(&g.certifier, third, fourth, &err), &err, CF_ESTATE, NULL,
			 "withdrawn");
	ck_assert_int_eq(gcount("SELECT count(*) FROM tlog_entry", NULL), logged);
	json_t *c = NULL;
	ck_assert(certificate_get(g.db, g.public_url, third, &c, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(c, "status"), "withdrawn");
	ck_assert(json_is_null(json_object_get(c, "superseded_by")));
	json_decref(c);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("certificate");
	TCase *tc = tcase_create("certificate");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, issuing_again_answers_the_same_certificate);
	tcase_add_test(tc, only_a_certifier_of_the_body_issues_and_only_after_an_approval);
	tcase_add_test(tc, the_answer_states_what_was_assessed_and_who_signed);
	tcase_add_test(tc, the_jws_verifies_and_a_changed_one_does_not);
	tcase_add_test(tc, the_register_filters_by_status_scheme_manufacturer_and_text);
	tcase_add_test(tc, the_status_at_a_moment_expires_with_validity);
	tcase_add_test(tc, a_change_states_a_known_reason);
	tcase_add_test(tc, status_changes_follow_their_table_and_withdrawal_is_final);
	tcase_add_test(tc, a_key_compromised_before_the_signature_wins_over_every_status);
	tcase_add_test(tc, the_register_walks_every_certificate_once_in_order);
	suite_add_tcase(s, tc);
	TCase *sup = tcase_create("supersede");
	tcase_set_timeout(sup, 300);
	tcase_add_unchecked_fixture(sup, supersede_setup, supersede_teardown);
	tcase_add_test(sup, a_newer_certificate_supersedes_the_old_one_everywhere);
	tcase_add_test(sup, a_withdrawn_or_superseded_certificate_is_not_superseded);
	suite_add_tcase(s, sup);
	return tsupport_run(s);
}
