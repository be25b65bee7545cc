/*
 * Unit tests of core/application against the suite's throwaway database,
 * calling core/ directly: the transition table iterated (every row's guard
 * refuses what it should and accepts what it should, every state and action
 * pair not in it refused, role and membership per row), the change common
 * to all transitions (state, event, audit record), If-Match, drafts,
 * answers and the list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "coreworld.h"
#include "jsonx.h"
#include "tsupport.h"

static struct coreworld w;

static void setup(void)
{
	coreworld_create(&w, "application");
	coreworld_unaccredited(&w);
}

static void teardown(void)
{
	coreworld_destroy(&w);
}

/* The row for action from state (the test fails when there is none). */
static const struct app_transition *row(const char *action, const char *from)
{
	size_t n;
	const struct app_transition *t = application_transitions(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].action, action) == 0 && strcmp(t[i].from, from) == 0)
			return &t[i];
	ck_abort_msg("no transition %s from %s", action, from);
	return NULL;
}

static bool is_state(const char *s)
{
	size_t n;
	const char *const *states = application_states(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(states[i], s) == 0)
			return true;
	return false;
}

/* A person of the application's party on the row's side who holds its role
 * (own), or one who holds it in another organisation of the same kind. */
static const struct principal *holder_of(unsigned role, bool own)
{
	if (role & ROLE_APPLICANT)
		return own ? &w.applicant : &w.other_applicant;
	if (role & ROLE_CERTIFIER)
		return own ? &w.certifier : &w.other_certifier;
	if (role & ROLE_ASSESSOR)
		return own ? &w.assessor : &w.other_assessor;
	ck_abort_msg("no person for role %u", role);
	return NULL;
}

static int version_of(const char *id)
{
	struct application_row a;
	struct cf_error err;
	ck_assert_int_eq(application_load(w.db, id, false, &a, &err), CF_OK);
	return a.version;
}

static long long audit_rows(void)
{
	return coreworld_count(&w, "SELECT count(*) FROM audit_log", NULL);
}

/* Runs the guard of the row (action, from) on application id as p, with
 * the body's fields, and checks that it changed nothing. */
static cf_err guard(const char *action, const char *from, const char *id, const struct principal *p,
		    const struct app_act *fields, struct cf_error *err)
{
	const struct app_transition *t = row(action, from);
	ck_assert_msg(t->guard != NULL, "%s from %s has no guard", action, from);
	struct application_row a;
	ck_assert_int_eq(application_load(w.db, id, false, &a, err), CF_OK);
	struct app_act x = { 0 };
	if (fields)
		x = *fields;
	x.a = &a;
	x.p = p;
	long long before = audit_rows();
	cf_err e = t->guard(w.db, &x, err);
	ck_assert_int_eq(version_of(id), a.version);
	ck_assert_int_eq(audit_rows(), before);
	return e;
}


static void set_answer_sql(const char *id, const char *ref, const char *statement)
{
	const char *p[] = { id, ref, statement };
	PQclear(testdb_super_query(&w.tdb,
		"UPDATE application_answer SET statement = $3 WHERE application_id = $1 AND ref = $2",
		3, p));
}

/* ---- the table itself ---- */

START_TEST(the_table_is_consistent)
{
	size_t n;
	const struct app_transition *t = application_transitions(&n);
	ck_assert_int_ge(n, 10);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(is_state(t[i].from) && is_state(t[i].to), "%s: %s -> %s", t[i].action,
			      t[i].from, t[i].to);
		ck_assert_msg(strcmp(t[i].from, "decided") != 0 && strcmp(t[i].from, "withdrawn") != 0,
			      "%s leaves a final state", t[i].action);
		/* the applicant acts for the manufacturer, everyone else for the body */
		ck_assert_int_eq(t[i].side == APP_MANUFACTURER, (t[i].role & ROLE_APPLICANT) != 0);
		ck_assert_int_eq(t[i].hand_over, strcmp(t[i].action, "reassign") == 0);
		for (size_t k = 0; k < n; k++) {
			if (strcmp(t[i].action, t[k].action) != 0)
				continue;
			/* the role check reads any row of an action: they must agree */
			ck_assert_int_eq(t[i].role, t[k].role);
			ck_assert_int_eq(t[i].side, t[k].side);
			ck_assert(t[i].guard == t[k].guard && t[i].apply == t[k].apply);
			/* one row per (action, from, kind) */
			if (i != k)
				ck_assert_msg(strcmp(t[i].from, t[k].from) != 0 || t[i].kind != t[k].kind,
					      "%s from %s twice", t[i].action, t[i].from);
		}
	}
}
END_TEST

/* ---- every row accepts what it should, and does the common change ---- */

/* Brings a fresh application to the state where the row's guard holds;
 * *who is the caller and *body the action's body. */
static void prepare(const struct app_transition *t, char id[37], const struct principal **who,
		    const char **body)
{
	static char text[256];
	const char *type = t->kind == APP_SELF ? "self" : "third-party";
	coreworld_application(&w, type, t->from, id);
	*who = holder_of(t->role, true);
	*body = NULL;
	struct cf_error err;
	if (strcmp(t->action, "submit") == 0) {
		coreworld_answer_all(&w, id, "compliant");
	} else if (strcmp(t->action, "declare") == 0) {
		coreworld_answer_all(&w, id, "compliant");
		*body = "{\"statement\":\"we declare conformity\"}";
	} else if (strcmp(t->action, "request-info") == 0) {
		ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 2, 2, "info_needed", &err), CF_OK);
	} else if (strcmp(t->action, "complete") == 0) {
		ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 13, "pass", &err), CF_OK);
	} else if (strcmp(t->action, "decide") == 0) {
		*body = "{\"decision\":\"approve\",\"rationale\":\"every guideline met\"}";
	} else if (strcmp(t->action, "reassign") == 0) {
		snprintf(text, sizeof text, "{\"assessor_id\":\"%s\",\"reason\":\"Sam left\"}",
			 w.assessor2.user_id);
		*body = text;
	} else {
		ck_assert_msg(t->guard == NULL, "no preparation for %s, which has a guard", t->action);
	}
}

START_TEST(every_transition_is_taken_with_its_event_and_audit_record)
{
	size_t n;
	const struct app_transition *t = application_transitions(&n);
	for (size_t i = 0; i < n; i++) {
		char id[37];
		const struct principal *who;
		const char *body;
		prepare(&t[i], id, &who, &body);
		int version = version_of(id);
		long long events = coreworld_count(&w,
			"SELECT count(*) FROM application_event WHERE application_id = $1", id);
		struct cf_error err;
		cf_err e = coreworld_act(&w, who, id, t[i].action, body, &err);
		ck_assert_msg(e == CF_OK, "%s from %s: %s", t[i].action, t[i].from, err.detail);
		ck_assert_str_eq(coreworld_state(&w, id), t[i].to);
		ck_assert_int_eq(version_of(id), version + 1);
		ck_assert_int_eq(coreworld_count(&w,
			"SELECT count(*) FROM application_event WHERE application_id = $1", id), events + 1);
		const char *p[] = { id };
		PGresult *r = testdb_super_query(&w.tdb,
			"SELECT e.action, e.from_state, e.to_state, e.actor_id,"
			" (SELECT action || ' ' || (details->>'from') || ' ' || (details->>'to') FROM audit_log"
			"  WHERE object_id = $1::text ORDER BY seq DESC LIMIT 1)"
			" FROM application_event e WHERE e.application_id = $1::uuid ORDER BY seq DESC LIMIT 1",
			1, p);
		ck_assert_str_eq(PQgetvalue(r, 0, 0), t[i].action);
		ck_assert_str_eq(PQgetvalue(r, 0, 1), t[i].from);
		ck_assert_str_eq(PQgetvalue(r, 0, 2), t[i].to);
		ck_assert_str_eq(PQgetvalue(r, 0, 3), who->user_id);
		char audit[96];
		snprintf(audit, sizeof audit, "application.%s %s %s", t[i].action, t[i].from, t[i].to);
		for (char *c = audit; *c != ' '; c++)
			if (*c == '-')
				*c = '_';
		ck_assert_str_eq(PQgetvalue(r, 0, 4), audit);
		PQclear(r);
	}
}
END_TEST

/* ---- every pair the table has not is refused ---- */

static void refuse_every_other_action(const char *type)
{
	size_t ns, nt;
	const char *const *states = application_states(&ns);
	const struct app_transition *t = application_transitions(&nt);
	int refused_pairs = 0;
	for (size_t s = 0; s < ns; s++) {
		bool self = strcmp(type, "self") == 0;
		/* a self declaration is a draft, declared or withdrawn, nothing else */
		if (self && strcmp(states[s], "draft") != 0 && strcmp(states[s], "decided") != 0 &&
		    strcmp(states[s], "withdrawn") != 0)
			continue;
		char id[37];
		coreworld_application(&w, type, states[s], id);
		for (size_t k = 0; k < nt; k++) {
			bool seen = false, legal = false;
			for (size_t q = 0; q < k; q++)
				seen = seen || strcmp(t[q].action, t[k].action) == 0;
			for (size_t q = 0; q < nt; q++)
				legal = legal || (strcmp(t[q].action, t[k].action) == 0 &&
						  strcmp(t[q].from, states[s]) == 0 &&
						  (t[q].kind == APP_ANY || (t[q].kind == APP_SELF) == self));
			if (seen || legal)
				continue;
			int version = version_of(id);
			struct cf_error err;
			cf_err e = coreworld_act(&w, holder_of(t[k].role, true), id, t[k].action,
						 "{\"decision\":\"approve\",\"rationale\":\"x\"}", &err);
			if (self && t[k].side == APP_BODY) {
				/* a self declaration has no body: nobody's role reaches it */
				ck_assert_msg(e == CF_EFORBIDDEN, "%s a self application: %d %s", t[k].action,
					      e, err.detail);
				ck_assert_int_eq(version_of(id), version);
				refused_pairs++;
				continue;
			}
			ck_assert_msg(e == CF_ESTATE, "%s a %s application in %s: %d %s", t[k].action, type,
				      states[s], e, err.detail);
			/* the detail says which kind of application refused it */
			ck_assert_int_eq(strstr(err.detail, "a self-declared application") != NULL, self);
			ck_assert(strstr(err.detail, states[s]));
			json_t *extra = json_loads(err.extra, 0, NULL);
			ck_assert_str_eq(jsonx_str(extra, "state"), states[s]);
			json_t *allowed = json_object_get(extra, "allowed_actions");
			ck_assert(json_is_array(allowed));
			size_t i;
			json_t *a;
			json_array_foreach(allowed, i, a)
				ck_assert_str_ne(json_string_value(a), t[k].action);
			json_decref(extra);
			ck_assert_str_eq(coreworld_state(&w, id), states[s]);
			ck_assert_int_eq(version_of(id), version);
			refused_pairs++;
		}
	}
	printf("application: %d (state, action) pairs of %s applications refused\n", refused_pairs, type);
	ck_assert_int_ge(refused_pairs, strcmp(type, "self") == 0 ? 15 : 35);
}

START_TEST(every_pair_not_in_the_table_is_refused_third_party)
{
	refuse_every_other_action("third-party");
}
END_TEST

START_TEST(every_pair_not_in_the_table_is_refused_self)
{
	refuse_every_other_action("self");
}
END_TEST

START_TEST(an_unknown_action_is_not_found)
{
	char id[37];
	coreworld_application(&w, "third-party", "draft", id);
	struct cf_error err;
	cf_err e = coreworld_act(&w, &w.applicant, id, "approve", NULL, &err);
	coreworld_refused(e, &err, CF_ENOTFOUND, NULL, "there is no action approve");
	ck_assert(strstr(err.detail, "\"submit\""));
	e = coreworld_act(&w, &w.applicant, "not-a-uuid", "submit", NULL, &err);
	ck_assert_int_eq(e, CF_ENOTFOUND);
}
END_TEST

/* ---- role and membership, row by row ---- */

START_TEST(only_the_role_of_the_row_in_the_application_s_party_may_act)
{
	const struct principal *everyone[] = { &w.applicant, &w.other_applicant, &w.assessor,
					       &w.other_assessor, &w.certifier, &w.other_certifier,
					       &w.body_admin, &w.maker_admin, &w.accreditor, &w.ab_admin };
	size_t n;
	const struct app_transition *t = application_transitions(&n);
	char id[37], self_id[37];
	coreworld_application(&w, "third-party", "draft", id);
	coreworld_application(&w, "self", "draft", self_id);
	int checked = 0;
	for (size_t i = 0; i < n; i++) {
		const char *app = t[i].kind == APP_SELF ? self_id : id;
		struct application_row a;
		struct cf_error err;
		ck_assert_int_eq(application_load(w.db, app, false, &a, &err), CF_OK);
		const char *party = t[i].side == APP_MANUFACTURER ? a.manufacturer_id : w.body;
		for (size_t k = 0; k < sizeof everyone / sizeof everyone[0]; k++) {
			const struct principal *p = everyone[k];
			bool may = (p->roles & t[i].role) && strcmp(p->org_id, party) == 0;
			/* the role is checked before If-Match (and the state): a stale
			 * version tells who may from who may not */
			json_t *body = json_object(), *out = NULL;
			cf_err e = application_act(w.db, p, app, t[i].action, "\"0\"", body, &out, &err);
			json_decref(body);
			if (may) {
				ck_assert_msg(e == CF_EPRECONDITION, "%s refused to its role: %s", t[i].action,
					      err.detail);
			} else {
				ck_assert_msg(e == CF_EFORBIDDEN, "%s by %s of %s: %d %s", t[i].action,
					      party_role_name(p->roles), p->org_id, e, err.detail);
				char want[96];
				snprintf(want, sizeof want, "%s is for the application's ", t[i].action);
				ck_assert_msg(strstr(err.detail, want), "%s", err.detail);
				checked++;
			}
		}
	}
	ck_assert_int_ge(checked, 100);
	/* the version did not move: nothing was refused half-way */
	ck_assert_int_eq(version_of(id), 1);
}
END_TEST

START_TEST(the_body_s_lead_is_named_as_such)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	cf_err e = coreworld_act(&w, &w.assessor, id, "reassign", NULL, &err);
	coreworld_refused(e, &err, CF_EFORBIDDEN, NULL, "body's lead (a certifier or its org_admin)");
	/* the body's administrator is a lead too */
	char body[160];
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\",\"reason\":\"holiday\"}", w.assessor2.user_id);
	ck_assert_int_eq(coreworld_act(&w, &w.body_admin, id, "reassign", body, &err), CF_OK);
	/* but not another body's */
	e = coreworld_act(&w, &w.other_body_admin, id, "reassign", body, &err);
	ck_assert_int_eq(e, CF_EFORBIDDEN);
	e = coreworld_act(&w, &w.other_applicant, id, "withdraw", NULL, &err);
	coreworld_refused(e, &err, CF_EFORBIDDEN, NULL, "withdraw is for the application's applicant");
}
END_TEST

/* ---- If-Match and the body ---- */

START_TEST(if_match_is_required_and_must_be_current)
{
	char id[37];
	coreworld_application(&w, "third-party", "draft", id);
	json_t *body = json_object(), *out = NULL;
	struct cf_error err;
	cf_err e = application_act(w.db, &w.applicant, id, "withdraw", NULL, body, &out, &err);
	coreworld_refused(e, &err, CF_EPRECOND_REQ, NULL, "If-Match");
	e = application_act(w.db, &w.applicant, id, "withdraw", "\"0\"", body, &out, &err);
	coreworld_refused(e, &err, CF_EPRECONDITION, NULL, "it is now at \"1\"");
	ck_assert_str_eq(coreworld_state(&w, id), "draft");
	/* weak and * match too */
	e = application_act(w.db, &w.applicant, id, "withdraw", "W/\"1\"", body, &out, &err);
	ck_assert_int_eq(e, CF_OK);
	ck_assert_str_eq(jsonx_str(out, "state"), "withdrawn");
	json_decref(out);
	json_decref(body);
}
END_TEST

START_TEST(assessor_and_reason_belong_to_reassign_only)
{
	char id[37];
	coreworld_application(&w, "third-party", "draft", id);
	struct cf_error err;
	char body[160];
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\"}", w.assessor.user_id);
	coreworld_refused(coreworld_act(&w, &w.applicant, id, "withdraw", body, &err), &err, CF_EINVAL,
		"/assessor_id", "for the reassign action only");
	coreworld_refused(coreworld_act(&w, &w.applicant, id, "withdraw", "{\"reason\":\"x\"}", &err), &err,
		CF_EINVAL, "/reason", "for the reassign action only");
	coreworld_refused(coreworld_act(&w, &w.applicant, id, "withdraw", "{\"colour\":\"red\"}", &err), &err,
		CF_EINVAL, "/colour", "colour");
	ck_assert_str_eq(coreworld_state(&w, id), "draft");
}
END_TEST

/* ---- the guards, one by one: what each refuses and accepts ---- */

START_TEST(submit_guard)
{
	char id[37];
	coreworld_application(&w, "third-party", "draft", id);
	struct cf_error err;
	coreworld_refused(guard("submit", "draft", id, &w.applicant, NULL, &err), &err, CF_EUNPROCESSABLE, NULL,
		"13 mandatory requirements have no answer: DCMS-1, DCMS-2");
	coreworld_answer_all(&w, id, "not_compliant"); /* answered is enough for a body */
	/* an owner for each keyword group */
	PQclear(testdb_super_query(&w.tdb, "UPDATE application SET owners = '{\"Software\":\"x\"}'"
				   " WHERE id = $1", 1, (const char *[]){ id }));
	coreworld_refused(guard("submit", "draft", id, &w.applicant, NULL, &err), &err, CF_EUNPROCESSABLE,
		"/owners", "missing: Hardware, Policy, Process");
	PQclear(testdb_super_query(&w.tdb, "UPDATE application SET owners = '{\"Software\":\"x\","
				   "\"Hardware\":\"y\",\"Policy\":\"z\",\"Process\":\" \"}' WHERE id = $1", 1,
				   (const char *[]){ id }));
	coreworld_refused(guard("submit", "draft", id, &w.applicant, NULL, &err), &err, CF_EUNPROCESSABLE,
		"/owners", "missing: Process");
	PQclear(testdb_super_query(&w.tdb, "UPDATE application SET owners = '{\"Software\":\"x\","
				   "\"Hardware\":\"y\",\"Policy\":\"z\",\"Process\":\"w\"}' WHERE id = $1", 1,
				   (const char *[]){ id }));
	ck_assert_int_eq(guard("submit", "draft", id, &w.applicant, NULL, &err), CF_OK);
	/* a product past its support period */
	PQclear(testdb_super_query(&w.tdb, "UPDATE product SET support_end = current_date - 1"
				   " WHERE id = $1", 1, (const char *[]){ w.product }));
	coreworld_refused(guard("submit", "draft", id, &w.applicant, NULL, &err), &err, CF_EUNPROCESSABLE, NULL,
		"support period has ended");
	PQclear(testdb_super_query(&w.tdb, "UPDATE product SET support_end = current_date + 400"
				   " WHERE id = $1", 1, (const char *[]){ w.product }));
	ck_assert_int_eq(guard("submit", "draft", id, &w.applicant, NULL, &err), CF_OK);
	/* a body without accreditation */
	PQclear(testdb_super_query(&w.tdb, "UPDATE application SET body_id = $2 WHERE id = $1", 2,
				   (const char *[]){ id, w.other_body }));
	coreworld_refused(guard("submit", "draft", id, &w.applicant, NULL, &err), &err, CF_EUNPROCESSABLE,
		"/body_id", "not accredited for dcms-cop@2018 at class 0");
	/* the guard snapshots nothing: that is the change of the row */
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application WHERE id = $1"
					 " AND product_snapshot IS NULL AND submitted_at IS NULL", id), 1);
}
END_TEST

START_TEST(submit_snapshots_and_sets_submitted_at)
{
	char id[37];
	coreworld_application(&w, "third-party", "submitted", id);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application WHERE id = $1"
					 " AND product_snapshot->>'model' = 'SP-1'"
					 " AND manufacturer_snapshot->>'name' = 'Devices Ltd'"
					 " AND submitted_at IS NOT NULL", id), 1);
	/* no other action sets submitted_at (a self declaration is never submitted) */
	char self[37];
	coreworld_application(&w, "self", "decided", self);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application WHERE id = $1"
					 " AND product_snapshot IS NOT NULL AND submitted_at IS NULL", self), 1);
}
END_TEST

START_TEST(declare_guard)
{
	char id[37];
	coreworld_application(&w, "self", "draft", id);
	struct app_act with = { .statement = "we declare" };
	struct cf_error err;
	coreworld_refused(guard("declare", "draft", id, &w.applicant, &with, &err), &err, CF_EUNPROCESSABLE, NULL,
		"13 mandatory requirements have no answer");
	coreworld_answer_all(&w, id, "compliant");
	set_answer_sql(id, "DCMS-4", "not_compliant");
	coreworld_refused(guard("declare", "draft", id, &w.applicant, &with, &err), &err, CF_EUNPROCESSABLE, NULL,
		"1 mandatory requirement are answered not compliant: the product cannot be declared "
		"conformant: DCMS-4");
	set_answer_sql(id, "DCMS-4", "compliant");
	coreworld_refused(guard("declare", "draft", id, &w.applicant, NULL, &err), &err, CF_EINVAL, "/statement",
		"a declaration needs its statement");
	ck_assert_int_eq(guard("declare", "draft", id, &w.applicant, &with, &err), CF_OK);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_decision"
					 " WHERE application_id = $1", id), 0);
	/* taken: the declaration is the decision, by the applicant, with the statement */
	coreworld_act_ok(&w, &w.applicant, id, "declare", "{\"statement\":\"we declare\"}");
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_decision"
					 " WHERE application_id = $1 AND self_declaration AND decision = 'approved'"
					 " AND rationale = 'we declare'", id), 1);
}
END_TEST

START_TEST(request_info_guard)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	coreworld_refused(guard("request-info", "in_evaluation", id, &w.assessor2, NULL, &err), &err,
		CF_EFORBIDDEN, NULL, "only the assessor who took the application");
	coreworld_refused(guard("request-info", "in_evaluation", id, &w.assessor, NULL, &err), &err,
		CF_EUNPROCESSABLE, NULL, "record a verdict 'info_needed'");
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 3, 3, "info_needed", &err), CF_OK);
	ck_assert_int_eq(guard("request-info", "in_evaluation", id, &w.assessor, NULL, &err), CF_OK);
	/* only the current verdict counts: answered by a pass, the question is closed */
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 3, 3, "pass", &err), CF_OK);
	coreworld_refused(guard("request-info", "in_evaluation", id, &w.assessor, NULL, &err), &err,
		CF_EUNPROCESSABLE, NULL, "record a verdict 'info_needed'");
}
END_TEST

START_TEST(complete_guard)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	coreworld_refused(guard("complete", "in_evaluation", id, &w.certifier, NULL, &err), &err, CF_EFORBIDDEN,
		NULL, "only the assessor who took the application evaluates it");
	coreworld_refused(guard("complete", "in_evaluation", id, &w.assessor, NULL, &err), &err,
		CF_EUNPROCESSABLE, NULL, "13 mandatory requirements have no final verdict");
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 12, "fail", &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 13, 13, "info_needed", &err), CF_OK);
	coreworld_refused(guard("complete", "in_evaluation", id, &w.assessor, NULL, &err), &err,
		CF_EUNPROCESSABLE, NULL, "1 mandatory requirement have no final verdict: DCMS-13");
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 13, 13, "not_applicable", &err), CF_OK);
	ck_assert_int_eq(guard("complete", "in_evaluation", id, &w.assessor, NULL, &err), CF_OK);
	/* a later info_needed reopens it */
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 5, 5, "info_needed", &err), CF_OK);
	coreworld_refused(guard("complete", "in_evaluation", id, &w.assessor, NULL, &err), &err,
		CF_EUNPROCESSABLE, NULL, "1 mandatory requirement have no final verdict: DCMS-5");
}
END_TEST

START_TEST(reassign_guard)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	struct app_act x = { .reason = "Sam left" };
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err, CF_EINVAL,
		"/assessor_id", "/assessor_id is required");
	x.assessor_id = "sam";
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err, CF_EINVAL,
		"/assessor_id", "must be a user id");
	x.assessor_id = w.assessor2.user_id;
	x.reason = "";
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err, CF_EINVAL,
		"/reason", "/reason is required");
	x.reason = "Sam left";
	x.assessor_id = w.assessor.user_id;
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err,
		CF_EUNPROCESSABLE, "/assessor_id", "already holds this application");
	x.assessor_id = "00000000-0000-4000-8000-000000000000";
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err,
		CF_EUNPROCESSABLE, "/assessor_id", "there is no user");
	x.assessor_id = w.other_assessor.user_id;
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err,
		CF_EUNPROCESSABLE, "/assessor_id", "not a person of the application's body");
	x.assessor_id = w.certifier2.user_id;
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err,
		CF_EUNPROCESSABLE, "/assessor_id", "is not an assessor");
	x.assessor_id = w.assessor2.user_id;
	ck_assert_int_eq(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), CF_OK);
	PQclear(testdb_super_query(&w.tdb, "UPDATE app_user SET active = false WHERE id = $1", 1,
				   (const char *[]){ w.assessor2.user_id }));
	coreworld_refused(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), &err,
		CF_EUNPROCESSABLE, "/assessor_id", "is deactivated");
	PQclear(testdb_super_query(&w.tdb, "UPDATE app_user SET active = true WHERE id = $1", 1,
				   (const char *[]){ w.assessor2.user_id }));
	ck_assert_int_eq(guard("reassign", "in_evaluation", id, &w.certifier, &x, &err), CF_OK);
}
END_TEST

START_TEST(reassign_hands_over_with_its_reason_in_event_and_audit)
{
	char id[37], body[200];
	coreworld_application(&w, "third-party", "info_requested", id);
	snprintf(body, sizeof body, "{\"assessor_id\":\"%s\",\"reason\":\"Sam left\",\"message\":\"m\"}",
		 w.assessor2.user_id);
	coreworld_act_ok(&w, &w.certifier, id, "reassign", body);
	ck_assert_str_eq(coreworld_state(&w, id), "info_requested");
	const char *p[] = { id };
	PGresult *r = testdb_super_query(&w.tdb,
		"SELECT a.assessor_id, e.message, e.assessor_id, l.details->>'previous_assessor',"
		" l.details->>'assessor', l.details->>'reason', l.action"
		" FROM application a, application_event e, audit_log l WHERE a.id = $1::uuid"
		" AND e.application_id = a.id AND e.seq = (SELECT max(seq) FROM application_event"
		" WHERE application_id = a.id) AND l.seq = (SELECT max(seq) FROM audit_log"
		" WHERE object_id = $1::text)", 1, p);
	ck_assert_str_eq(PQgetvalue(r, 0, 0), w.assessor2.user_id);
	ck_assert_str_eq(PQgetvalue(r, 0, 1), "Sam left"); /* the reason, not the message */
	ck_assert_str_eq(PQgetvalue(r, 0, 2), w.assessor2.user_id);
	ck_assert_str_eq(PQgetvalue(r, 0, 3), w.assessor.user_id);
	ck_assert_str_eq(PQgetvalue(r, 0, 4), w.assessor2.user_id);
	ck_assert_str_eq(PQgetvalue(r, 0, 5), "Sam left");
	ck_assert_str_eq(PQgetvalue(r, 0, 6), "application.reassign");
	PQclear(r);
	/* the new holder evaluates; the former one no longer does */
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 1, "pass", &err), CF_ESTATE);
	coreworld_act_ok(&w, &w.applicant, id, "resubmit", "{\"message\":\"answered\"}");
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 13, "pass", &err), CF_EFORBIDDEN);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor2, id, 1, 13, "pass", &err), CF_OK);
	coreworld_act_ok(&w, &w.assessor2, id, "complete", NULL);
}
END_TEST

START_TEST(take_makes_the_caller_the_holder)
{
	char id[37];
	coreworld_application(&w, "third-party", "submitted", id);
	coreworld_act_ok(&w, &w.assessor2, id, "take", NULL);
	struct application_row a;
	struct cf_error err;
	ck_assert_int_eq(application_load(w.db, id, false, &a, &err), CF_OK);
	ck_assert_str_eq(a.assessor_id, w.assessor2.user_id);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_event WHERE"
					 " application_id = $1 AND action = 'take' AND assessor_id = actor_id", id), 1);
	/* a second take is a state error, not a second holder */
	ck_assert_int_eq(coreworld_act(&w, &w.assessor, id, "take", NULL, &err), CF_ESTATE);
}
END_TEST

START_TEST(decide_guard)
{
	char id[37];
	coreworld_application(&w, "third-party", "evaluated", id);
	struct cf_error err;
	struct app_act x = { .rationale = "fine" };
	coreworld_refused(guard("decide", "evaluated", id, &w.certifier, &x, &err), &err, CF_EINVAL, "/decision",
		"/decision must be approve or reject");
	x.decision = "maybe";
	coreworld_refused(guard("decide", "evaluated", id, &w.certifier, &x, &err), &err, CF_EINVAL, "/decision",
		"/decision must be approve or reject");
	x.decision = "approve";
	ck_assert_int_eq(guard("decide", "evaluated", id, &w.certifier, &x, &err), CF_OK);
	/* independence (decision_check, tested in full by test_decision) */
	coreworld_refused(guard("decide", "evaluated", id, &w.assessor, &x, &err), &err, CF_EFORBIDDEN, NULL,
		"ISO/IEC 17065 7.5");
	x.rationale = NULL;
	coreworld_refused(guard("decide", "evaluated", id, &w.certifier, &x, &err), &err, CF_EINVAL, "/rationale",
		"a decision needs its rationale");
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_decision"
					 " WHERE application_id = $1", id), 0);
	/* taken: the decision, with the event's message the rationale and the
	 * audit record the decision */
	coreworld_act_ok(&w, &w.certifier, id, "decide",
			 "{\"decision\":\"reject\",\"rationale\":\"not this time\"}");
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_decision d,"
		" application_event e, audit_log l WHERE d.application_id = $1::uuid"
		" AND d.decision = 'rejected' AND e.application_id = $1::uuid AND e.action = 'decide'"
		" AND e.message = 'not this time' AND l.object_id = $1::text AND l.action = 'application.decide'"
		" AND l.details->>'decision' = 'reject'", id), 1);
}
END_TEST

START_TEST(guards_that_need_nothing_have_none)
{
	/* take, resubmit and withdraw ask only the role (and the state) */
	const char *const free_actions[] = { "take", "resubmit", "withdraw" };
	size_t n;
	const struct app_transition *t = application_transitions(&n);
	for (size_t i = 0; i < n; i++) {
		bool is_free = false;
		for (size_t k = 0; k < 3; k++)
			is_free = is_free || strcmp(t[i].action, free_actions[k]) == 0;
		ck_assert_msg((t[i].guard == NULL) == is_free, "%s", t[i].action);
	}
	/* withdraw from every state before a decision */
	const char *before[] = { "draft", "submitted", "in_evaluation", "info_requested", "evaluated" };
	for (size_t s = 0; s < 5; s++) {
		char id[37];
		coreworld_application(&w, "third-party", before[s], id);
		coreworld_act_ok(&w, &w.applicant, id, "withdraw", "{\"message\":\"changed our minds\"}");
		ck_assert_str_eq(coreworld_state(&w, id), "withdrawn");
	}
}
END_TEST

/* ---- a failing change leaves nothing behind ---- */

START_TEST(a_refused_action_changes_nothing)
{
	char id[37];
	coreworld_application(&w, "third-party", "draft", id);
	long long audit = audit_rows();
	long long events = coreworld_count(&w, "SELECT count(*) FROM application_event"
					   " WHERE application_id = $1", id);
	struct cf_error err;
	ck_assert_int_eq(coreworld_act(&w, &w.applicant, id, "submit", NULL, &err), CF_EUNPROCESSABLE);
	ck_assert_int_eq(audit_rows(), audit);
	ck_assert_int_eq(coreworld_count(&w, "SELECT count(*) FROM application_event"
					 " WHERE application_id = $1", id), events);
	ck_assert_int_eq(version_of(id), 1);
	ck_assert_str_eq(coreworld_state(&w, id), "draft");
}
END_TEST

/* ---- reading ---- */

START_TEST(allowed_actions_follow_the_table)
{
	size_t ns, nt;
	const char *const *states = application_states(&ns);
	const struct app_transition *t = application_transitions(&nt);
	for (size_t s = 0; s < ns; s++) {
		char id[37];
		coreworld_application(&w, "third-party", states[s], id);
		json_t *app = NULL;
		struct cf_error err;
		ck_assert_int_eq(application_get(w.db, id, &app, &err), CF_OK);
		json_t *allowed = json_object_get(app, "allowed_actions");
		size_t want = 0;
		for (size_t i = 0; i < nt; i++) {
			if (strcmp(t[i].from, states[s]) != 0 || t[i].kind == APP_SELF)
				continue;
			want++;
			bool listed = false;
			size_t k;
			json_t *a;
			json_array_foreach(allowed, k, a)
				listed = listed || strcmp(json_string_value(a), t[i].action) == 0;
			ck_assert_msg(listed, "%s not allowed from %s", t[i].action, states[s]);
		}
		ck_assert_int_eq(json_array_size(allowed), want);
		json_decref(app);
	}
}
END_TEST

START_TEST(the_checklist_shows_current_verdicts_and_counts)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 4, "pass", &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 2, 3, "fail", &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 3, 3, "info_needed", &err), CF_OK);
	json_t *app = NULL;
	ck_assert_int_eq(application_get(w.db, id, &app, &err), CF_OK);
	json_t *items = json_object_get(app, "requirements");
	const char *refs[] = { "DCMS-1", "DCMS-2", "DCMS-3", "DCMS-4" };
	const char *want[] = { "pass", "fail", "info_needed", "pass" };
	for (size_t i = 0; i < 4; i++) {
		json_t *item = json_array_get(items, i);
		ck_assert_str_eq(jsonx_str(item, "ref"), refs[i]);
		ck_assert_str_eq(jsonx_str(json_object_get(item, "verdict"), "verdict"), want[i]);
		ck_assert_str_eq(jsonx_str(json_object_get(item, "answer"), "statement"), "compliant");
	}
	ck_assert(json_is_null(json_object_get(json_array_get(items, 4), "verdict")));
	json_t *m = json_object_get(json_object_get(app, "counts"), "mandatory");
	ck_assert_int_eq(json_integer_value(json_object_get(m, "requirements")), 13);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "answered")), 13);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "pass")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "fail")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "info_needed")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(m, "without_verdict")), 9);
	json_decref(app);
}
END_TEST

START_TEST(answers_change_in_draft_and_while_information_is_requested)
{
	char id[37];
	coreworld_application(&w, "third-party", "submitted", id);
	json_t *ans = json_pack("{s:s,s:s}", "statement", "compliant", "text", "again"), *out = NULL;
	struct cf_error err;
	cf_err e = application_answer(w.db, &w.applicant, id, "DCMS-1", ans, &out, &err);
	coreworld_refused(e, &err, CF_ESTATE, NULL, "it is submitted");
	ck_assert_str_eq(err.extra, "{\"state\":\"submitted\"}");
	char draft[37];
	coreworld_application(&w, "third-party", "draft", draft);
	e = application_answer(w.db, &w.other_applicant, draft, "DCMS-1", ans, &out, &err);
	coreworld_refused(e, &err, CF_EFORBIDDEN, NULL, "not your organisation's");
	e = application_answer(w.db, &w.applicant, draft, "DCMS-99", ans, &out, &err);
	coreworld_refused(e, &err, CF_ENOTFOUND, NULL, "has no requirement DCMS-99");
	json_decref(ans);
	ans = json_pack("{s:s,s:s}", "statement", "not_applicable", "text", "t");
	e = application_answer(w.db, &w.applicant, draft, "DCMS-1", ans, &out, &err);
	coreworld_refused(e, &err, CF_EINVAL, "/justification", "needs a justification");
	json_decref(ans);
	ans = json_pack("{s:s,s:s}", "statement", "yes", "text", "t");
	e = application_answer(w.db, &w.applicant, draft, "DCMS-1", ans, &out, &err);
	coreworld_refused(e, &err, CF_EINVAL, "/statement", "compliant, not_applicable or not_compliant");
	json_decref(ans);
	ans = json_pack("{s:s,s:s,s:s}", "statement", "not_applicable", "text", "t", "justification",
			"no radio");
	ck_assert_int_eq(application_answer(w.db, &w.applicant, draft, "DCMS-1", ans, &out, &err), CF_OK);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(json_object_get(out,
		"counts"), "mandatory"), "answered")), 1);
	ck_assert_str_eq(jsonx_str(out, "etag"), "\"2\"");
	json_decref(out);
	json_decref(ans);
}
END_TEST

START_TEST(a_settled_requirement_keeps_its_answer)
{
	char id[37];
	coreworld_application(&w, "third-party", "in_evaluation", id);
	struct cf_error err;
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 13, "info_needed", &err), CF_OK);
	ck_assert_int_eq(coreworld_verdicts(&w, &w.assessor, id, 1, 1, "pass", &err), CF_OK);
	coreworld_act_ok(&w, &w.assessor, id, "request-info", NULL);
	json_t *ans = json_pack("{s:s,s:s}", "statement", "compliant", "text", "more"), *out = NULL;
	cf_err e = application_answer(w.db, &w.applicant, id, "DCMS-1", ans, &out, &err);
	coreworld_refused(e, &err, CF_ESTATE, NULL, "requirement DCMS-1 was judged pass");
	ck_assert_int_eq(application_answer(w.db, &w.applicant, id, "DCMS-2", ans, &out, &err), CF_OK);
	json_decref(out);
	json_decref(ans);
	struct application_row a;
	ck_assert_int_eq(application_load(w.db, id, false, &a, &err), CF_OK);
	coreworld_refused(application_check_unsettled(w.db, &a, "DCMS-3, DCMS-1", NULL, &err), &err, CF_ESTATE,
		NULL, "requirement DCMS-1 was judged pass");
	ck_assert_int_eq(application_check_unsettled(w.db, &a, "DCMS-2,DCMS-3", NULL, &err), CF_OK);
	ck_assert_int_eq(application_check_unsettled(w.db, &a, NULL, NULL, &err), CF_OK);
}
END_TEST

START_TEST(create_validates_and_derives)
{
	struct cf_error err;
	json_t *out = NULL;
	json_t *b = json_pack("{s:s,s:s,s:s,s:s}", "product_id", w.product, "scheme_id", "dcms-cop",
			      "scheme_version", "2018", "assessment_type", "peer");
	coreworld_refused(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EINVAL,
		"/assessment_type", "self or third-party");
	json_object_set_new(b, "assessment_type", json_string("third-party"));
	coreworld_refused(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EINVAL, "/body_id",
		"body_id");
	json_object_set_new(b, "body_id", json_string(w.maker));
	coreworld_refused(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EUNPROCESSABLE,
		"/body_id", "is not an assessment body");
	json_object_set_new(b, "body_id", json_string(w.body));
	coreworld_refused(application_create(w.db, &w.other_applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EUNPROCESSABLE,
		"/product_id", "your organisation has no product");
	json_object_set_new(b, "scheme_version", json_string("1999"));
	coreworld_refused(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EUNPROCESSABLE,
		"/scheme_version", "there is no scheme dcms-cop version 1999");
	json_object_set_new(b, "scheme_version", json_string("2018"));
	json_object_set_new(b, "class", json_integer(2));
	coreworld_refused(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EINVAL, "/class",
		"has only class 0");
	json_object_del(b, "class");
	json_object_set_new(b, "owners", json_pack("{s:s}", "Colour", "red"));
	coreworld_refused(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), &err, CF_EINVAL,
		"/owners/Colour", "'Colour' is not a keyword of dcms-cop@2018");
	json_object_del(b, "owners");
	ck_assert_int_eq(application_create(w.db, &w.applicant, b, APPLICATION_NO_QUOTA, &out, &err), CF_OK);
	ck_assert_str_eq(jsonx_str(out, "state"), "draft");
	ck_assert_int_eq(json_integer_value(json_object_get(out, "class")), 0);
	ck_assert_str_eq(jsonx_str(out, "etag"), "\"1\"");
	ck_assert_str_eq(jsonx_str(json_array_get(json_object_get(out, "events"), 0), "action"), "create");
	json_decref(out);
	json_decref(b);
}
END_TEST

START_TEST(update_changes_drafts_only)
{
	char id[37];
	coreworld_application(&w, "third-party", "draft", id);
	struct cf_error err;
	json_t *out = NULL;
	json_t *b = json_pack("{s:s}", "body_id", w.other_body);
	ck_assert_int_eq(application_update(w.db, &w.applicant, id, "\"1\"", b, &out, &err), CF_OK);
	ck_assert_str_eq(jsonx_str(json_object_get(out, "body"), "id"), w.other_body);
	json_decref(out);
	coreworld_refused(application_update(w.db, &w.applicant, id, "\"1\"", b, &out, &err), &err,
		CF_EPRECONDITION, NULL, "has changed since you read it");
	coreworld_refused(application_update(w.db, &w.other_applicant, id, "\"2\"", b, &out, &err), &err,
		CF_EFORBIDDEN, NULL, "not your organisation's");
	json_decref(b);
	char info[37];
	coreworld_application(&w, "third-party", "info_requested", info);
	b = json_pack("{s:s}", "body_id", w.body);
	char etag[24];
	application_etag(version_of(info), etag);
	coreworld_refused(application_update(w.db, &w.applicant, info, etag, b, &out, &err), &err, CF_ESTATE,
		NULL, "cannot be changed that way");
	json_decref(b);
	b = json_pack("{s:{s:s}}", "owners", "Software", "New firmware lead");
	ck_assert_int_eq(application_update(w.db, &w.applicant, info, etag, b, &out, &err), CF_OK);
	json_decref(out);
	json_decref(b);
}
END_TEST

START_TEST(the_list_is_scoped_and_paged)
{
	char a[37], b[37], c[37];
	coreworld_application(&w, "third-party", "draft", a);
	coreworld_application(&w, "third-party", "submitted", b);
	coreworld_application(&w, "self", "draft", c);
	struct cf_error err;
	json_t *out = NULL;
	/* the body sees what was submitted to it, never a draft */
	ck_assert_int_eq(application_list(w.db, &w.assessor, "draft", 0, 100, &out, &err), CF_OK);
	ck_assert_int_eq(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	ck_assert_int_eq(application_list(w.db, &w.other_applicant, NULL, 0, 100, &out, &err), CF_OK);
	ck_assert_int_eq(json_array_size(json_object_get(out, "items")), 0);
	json_decref(out);
	ck_assert_int_eq(application_list(w.db, &w.applicant, "draft", 0, 1, &out, &err), CF_OK);
	ck_assert_int_eq(json_array_size(json_object_get(out, "items")), 1);
	json_t *next = json_object_get(out, "next");
	ck_assert(json_is_string(next) || json_is_integer(next));
	json_decref(out);
	coreworld_refused(application_list(w.db, &w.applicant, "lost", 0, 10, &out, &err), &err, CF_EINVAL, NULL,
		"state=lost is not a state");
}
END_TEST

START_TEST(the_parties_of_an_application)
{
	char draft[37], submitted[37], self[37], maker[37], body[37];
	coreworld_application(&w, "third-party", "draft", draft);
	coreworld_application(&w, "third-party", "submitted", submitted);
	coreworld_application(&w, "self", "draft", self);
	struct cf_error err;
	/* the body is a party once the application was submitted to it */
	ck_assert_int_eq(application_parties(w.db, draft, maker, body, false, &err), CF_OK);
	ck_assert_str_eq(maker, w.maker);
	ck_assert_str_eq(body, "");
	ck_assert_int_eq(application_parties(w.db, draft, maker, body, true, &err), CF_OK);
	ck_assert_str_eq(body, w.body);
	ck_assert_int_eq(application_parties(w.db, submitted, maker, body, false, &err), CF_OK);
	ck_assert_str_eq(body, w.body);
	ck_assert_int_eq(application_parties(w.db, self, maker, body, true, &err), CF_OK);
	ck_assert_str_eq(maker, w.maker);
	ck_assert_str_eq(body, "");
	coreworld_refused(application_parties(w.db, "00000000-0000-4000-8000-000000000000", maker, body,
					      false, &err), &err, CF_ENOTFOUND, NULL, "there is no application");
}
END_TEST

START_TEST(a_self_declaration_is_its_own_decision)
{
	char id[37];
	coreworld_application(&w, "self", "decided", id);
	json_t *app = NULL;
	struct cf_error err;
	ck_assert_int_eq(application_get(w.db, id, &app, &err), CF_OK);
	ck_assert(json_is_true(json_object_get(app, "self_declaration")));
	ck_assert(json_is_null(json_object_get(app, "body")));
	json_t *d = json_object_get(app, "decision");
	ck_assert_str_eq(jsonx_str(d, "decision"), "approved");
	ck_assert(json_is_true(json_object_get(d, "self_declaration")));
	ck_assert_str_eq(jsonx_str(json_object_get(d, "decided_by"), "id"), w.applicant.user_id);
	ck_assert_int_eq(json_array_size(json_object_get(app, "allowed_actions")), 0);
	json_decref(app);
	char draft[37];
	coreworld_application(&w, "self", "draft", draft);
	ck_assert_int_eq(application_get(w.db, draft, &app, &err), CF_OK);
	json_t *allowed = json_object_get(app, "allowed_actions");
	ck_assert_int_eq(json_array_size(allowed), 2);
	ck_assert_str_eq(json_string_value(json_array_get(allowed, 0)), "declare");
	ck_assert_str_eq(json_string_value(json_array_get(allowed, 1)), "withdraw");
	json_decref(app);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("application");
	TCase *tc = tcase_create("application");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, the_table_is_consistent);
	tcase_add_test(tc, every_transition_is_taken_with_its_event_and_audit_record);
	tcase_add_test(tc, every_pair_not_in_the_table_is_refused_third_party);
	tcase_add_test(tc, every_pair_not_in_the_table_is_refused_self);
	tcase_add_test(tc, an_unknown_action_is_not_found);
	tcase_add_test(tc, only_the_role_of_the_row_in_the_application_s_party_may_act);
	tcase_add_test(tc, the_body_s_lead_is_named_as_such);
	tcase_add_test(tc, if_match_is_required_and_must_be_current);
	tcase_add_test(tc, assessor_and_reason_belong_to_reassign_only);
	tcase_add_test(tc, submit_guard);
	tcase_add_test(tc, submit_snapshots_and_sets_submitted_at);
	tcase_add_test(tc, declare_guard);
	tcase_add_test(tc, request_info_guard);
	tcase_add_test(tc, complete_guard);
	tcase_add_test(tc, reassign_guard);
	tcase_add_test(tc, reassign_hands_over_with_its_reason_in_event_and_audit);
	tcase_add_test(tc, take_makes_the_caller_the_holder);
	tcase_add_test(tc, decide_guard);
	tcase_add_test(tc, guards_that_need_nothing_have_none);
	tcase_add_test(tc, a_refused_action_changes_nothing);
	tcase_add_test(tc, allowed_actions_follow_the_table);
	tcase_add_test(tc, the_checklist_shows_current_verdicts_and_counts);
	tcase_add_test(tc, answers_change_in_draft_and_while_information_is_requested);
	tcase_add_test(tc, a_settled_requirement_keeps_its_answer);
	tcase_add_test(tc, create_validates_and_derives);
	tcase_add_test(tc, update_changes_drafts_only);
	tcase_add_test(tc, the_list_is_scoped_and_paged);
	tcase_add_test(tc, the_parties_of_an_application);
	tcase_add_test(tc, a_self_declaration_is_its_own_decision);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
