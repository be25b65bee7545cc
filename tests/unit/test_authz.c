/*
 * Unit tests of core/authz.c, exhaustively: every ownership rule, granted to
 * every role, checked for a caller of every role, on a resource the caller's
 * organisation (or the caller) owns, one someone else owns, and one that
 * does not exist. The route table itself is in server/ and walked over HTTP
 * by tests/integration/test_access.c; here are the rules it is made of.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "application.h"
#include "authz.h"
#include "coreworld.h"
#include "jsonx.h"
#include "tsupport.h"

static struct coreworld f;
static char token_id[37];  /* a token of the applicant */
static char draft[37];     /* an application naming the body, not yet submitted */

#define NO_SUCH_UUID "00000000-0000-4000-8000-000000000000"

static void setup(void)
{
	coreworld_open(&f, "authz");
	coreworld_demo(&f);
	struct audit_actor by = party_actor(&f.maker_admin);
	json_t *out = NULL;
	struct cf_error err;
	cf_err e = party_token_create(f.db, &by, NULL, f.applicant.user_id, "unit", 30, &out, &err);
	ck_assert_msg(e == CF_OK, "%s", err.detail);
	snprintf(token_id, sizeof token_id, "%s", jsonx_str(out, "id"));
	json_decref(out);
	char text[400];
	snprintf(text, sizeof text,
		 "{\"product_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"scheme_version\":\"2018\","
		 "\"confidentiality\":\"basic\",\"integrity\":\"basic\",\"availability\":\"basic\","
		 "\"assessment_type\":\"third-party\",\"body_id\":\"%s\"}", f.product, f.certifier.org_id);
	json_t *body = coreworld_json(text);
	e = application_create(f.db, &f.applicant, body, APPLICATION_NO_QUOTA, &out, &err);
	ck_assert_msg(e == CF_OK, "%s", err.detail);
	snprintf(draft, sizeof draft, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(body);
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

/* The request's path parameters, for authz_check. */
struct params {
	const char *id, *serial;
};

static const char *param(void *ctx, const char *name)
{
	struct params *p = ctx;
	return strcmp(name, "serial") == 0 ? p->serial : strcmp(name, "id") == 0 ? p->id : NULL;
}

/* A rule's resources: one the owner holds and one that does not exist; the
 * owner is an organisation (org) or, for self and own token, a person. */
struct resource {
	enum authz_rule rule;
	const char *existing, *missing;
	const char *owner_org, *owner_user;
	bool looked_up; /* the rule reads the resource: a missing one is 404 */
};

static void resources(struct resource r[13])
{
	static const char missing_kid[] = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	const char *body = f.certifier.org_id, *maker = f.applicant.org_id, *ab = f.accreditor.org_id;
	struct resource all[13] = {
		{ AUTHZ_ANY, f.application, NO_SUCH_UUID, NULL, NULL, false },
		{ AUTHZ_OWN_ORG, body, NO_SUCH_UUID, body, NULL, false },
		{ AUTHZ_SELF, f.applicant.user_id, NO_SUCH_UUID, NULL, f.applicant.user_id, false },
		{ AUTHZ_OWN_TOKEN, token_id, NO_SUCH_UUID, NULL, f.applicant.user_id, true },
		{ AUTHZ_GRANTOR, f.accreditation, NO_SUCH_UUID, ab, NULL, true },
		{ AUTHZ_OWN_PRODUCT, f.product, NO_SUCH_UUID, maker, NULL, true },
		{ AUTHZ_APPLICANT, f.application, NO_SUCH_UUID, maker, NULL, true },
		{ AUTHZ_BODY_STAFF, f.application, NO_SUCH_UUID, body, NULL, true },
		{ AUTHZ_NAMED_BODY, draft, NO_SUCH_UUID, body, NULL, true },
		{ AUTHZ_ISSUER, f.serial, "CF-2099-999999", body, NULL, true },
		{ AUTHZ_MEMBER, f.applicant.user_id, NO_SUCH_UUID, maker, NULL, true },
		{ AUTHZ_MEMBER_TOKEN, token_id, NO_SUCH_UUID, maker, NULL, true },
		{ AUTHZ_KEY_HOLDER, f.kid, missing_kid, body, NULL, true },
	};
	memcpy(r, all, sizeof all);
}

/* A caller holding roles; owner: in the organisation (or as the person)
 * that owns r, otherwise in another organisation as another person. */
static struct principal caller(unsigned roles, const struct resource *r, bool owner)
{
	struct principal p = { .roles = roles };
	snprintf(p.org_id, sizeof p.org_id, "%s", owner && r->owner_org ? r->owner_org : f.admin.org_id);
	snprintf(p.user_id, sizeof p.user_id, "%s", owner && r->owner_user ? r->owner_user : f.admin.user_id);
	snprintf(p.org_kind, sizeof p.org_kind, "test");
	return p;
}

/* The request names the resource under the parameter its first grant's rule
 * reads ({serial} for a certificate, {id} otherwise) and something else under
 * the other: a rule that read the wrong one would answer for the decoy. */
static cf_err check(const struct principal *p, const struct authz_policy *policy, const char *id,
		    struct cf_error *err)
{
	bool serial = policy->grants[0].rule == AUTHZ_ISSUER;
	struct params ps = { serial ? f.application : id, serial ? id : f.serial };
	return authz_check(f.db, p, policy, param, &ps, err);
}

START_TEST(every_rule_for_every_role_on_owned_foreign_and_missing_resources)
{
	struct resource r[13];
	resources(r);
	int checked = 0;
	for (int i = 0; i < 13; i++) {
		for (unsigned granted = 1; granted <= ROLE_ALL; granted <<= 1) {
			struct authz_policy policy = { false, { { granted, r[i].rule } } };
			for (unsigned held = 1; held <= ROLE_ALL; held <<= 1) {
				for (int scenario = 0; scenario < 3; scenario++) {
					bool owner = scenario == 0;
					const char *id = scenario == 2 ? r[i].missing : r[i].existing;
					struct principal p = caller(held, &r[i], owner);
					cf_err want;
					if (held != granted)
						want = CF_EFORBIDDEN; /* never a lookup: no 404 leaks */
					else if (r[i].rule == AUTHZ_ANY || scenario == 0)
						want = CF_OK;
					else if (scenario == 2 && r[i].looked_up)
						want = CF_ENOTFOUND;
					else
						want = CF_EFORBIDDEN;
					struct cf_error err = { 0 };
					cf_err got = check(&p, &policy, id, &err);
					ck_assert_msg(got == want,
						      "rule %s granted to %s, caller %s, %s resource: %d, expected %d (%s)",
						      authz_rule_name(r[i].rule), party_role_name(granted),
						      party_role_name(held),
						      scenario == 0 ? "own" : scenario == 1 ? "foreign" : "missing", (int)got,
						      (int)want, err.detail);
					checked++;
				}
			}
		}
	}
	ck_assert_int_eq(checked, 13 * ROLE_COUNT * ROLE_COUNT * 3);
}
END_TEST

START_TEST(a_caller_with_several_roles_passes_by_any_of_them)
{
	struct resource r[13];
	resources(r);
	/* the product's owner, holding certifier and applicant: the grant to
	 * applicants holds though the grant to certifiers comes first */
	struct authz_policy policy = { false, { { ROLE_CERTIFIER, AUTHZ_ISSUER },
						{ ROLE_APPLICANT, AUTHZ_OWN_PRODUCT } } };
	struct principal p = caller(ROLE_CERTIFIER | ROLE_APPLICANT, &r[5], true);
	struct cf_error err;
	struct params ps = { f.product, "CF-2099-999999" };
	coreworld_expect("second grant", authz_check(f.db, &p, &policy, param, &ps, &err), &err, CF_OK, NULL,
			 NULL);
	/* neither holds: the first grant's missing certificate is a 404 */
	p = caller(ROLE_CERTIFIER | ROLE_APPLICANT, &r[5], false);
	coreworld_expect("missing wins", authz_check(f.db, &p, &policy, param, &ps, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
	/* the certificate exists and is not theirs either: 403 */
	ps.serial = f.serial;
	coreworld_expect("neither", authz_check(f.db, &p, &policy, param, &ps, &err), &err, CF_EFORBIDDEN,
			 NULL, "GET /v1/me");
}
END_TEST

START_TEST(a_public_route_needs_no_role_and_an_empty_policy_allows_nobody)
{
	struct authz_policy open = { true, { { 0, AUTHZ_ANY } } };
	struct authz_policy closed = { false, { { 0, AUTHZ_ANY } } };
	struct principal nobody = { .roles = 0 };
	struct principal everyone = { .roles = ROLE_ALL };
	snprintf(everyone.org_id, sizeof everyone.org_id, "%s", f.admin.org_id);
	struct cf_error err;
	coreworld_expect("public", check(&nobody, &open, NULL, &err), &err, CF_OK, NULL, NULL);
	coreworld_expect("closed", check(&everyone, &closed, f.application, &err), &err, CF_EFORBIDDEN, NULL,
			 NULL);
	/* a full list of grants is read to its end, and no further */
	struct authz_policy full = { false, { { ROLE_ADMIN, AUTHZ_SELF }, { ROLE_ADMIN, AUTHZ_SELF },
					      { ROLE_ADMIN, AUTHZ_SELF }, { ROLE_ADMIN, AUTHZ_ANY } } };
	struct principal admin = f.admin;
	coreworld_expect("fourth grant", check(&admin, &full, NO_SUCH_UUID, &err), &err, CF_OK, NULL, NULL);
}
END_TEST

START_TEST(a_body_sees_an_application_once_submitted_and_is_told_of_one_naming_it)
{
	struct authz_policy staff = { false, { { ROLE_ASSESSOR, AUTHZ_BODY_STAFF } } };
	struct authz_policy named = { false, { { ROLE_ASSESSOR, AUTHZ_NAMED_BODY } } };
	struct authz_policy applicant = { false, { { ROLE_APPLICANT, AUTHZ_APPLICANT } } };
	struct cf_error err;
	coreworld_expect("draft, staff", check(&f.assessor, &staff, draft, &err), &err, CF_EFORBIDDEN, NULL,
			 NULL);
	coreworld_expect("draft, named", check(&f.assessor, &named, draft, &err), &err, CF_OK, NULL, NULL);
	coreworld_expect("decided, staff", check(&f.assessor, &staff, f.application, &err), &err, CF_OK, NULL,
			 NULL);
	coreworld_expect("own draft", check(&f.applicant, &applicant, draft, &err), &err, CF_OK, NULL, NULL);
	coreworld_expect("not an id", check(&f.applicant, &applicant, "../etc/passwd", &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
	/* another body's assessor */
	struct principal stranger = f.assessor;
	snprintf(stranger.org_id, sizeof stranger.org_id, "%s", f.accreditor.org_id);
	coreworld_expect("other body", check(&stranger, &named, draft, &err), &err, CF_EFORBIDDEN, NULL, NULL);
}
END_TEST

START_TEST(every_rule_has_a_name_of_its_own)
{
	struct resource r[13];
	resources(r);
	for (int i = 0; i < 13; i++) {
		const char *name = authz_rule_name(r[i].rule);
		ck_assert_str_ne(name, "?");
		for (int k = 0; k < i; k++)
			ck_assert_str_ne(name, authz_rule_name(r[k].rule));
	}
	ck_assert_str_eq(authz_rule_name((enum authz_rule)99), "?");
	ck_assert_str_eq(authz_rule_name(AUTHZ_ISSUER), "issued by own body");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("authz");
	TCase *tc = tcase_create("authz");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_rule_for_every_role_on_owned_foreign_and_missing_resources);
	tcase_add_test(tc, a_caller_with_several_roles_passes_by_any_of_them);
	tcase_add_test(tc, a_public_route_needs_no_role_and_an_empty_policy_allows_nobody);
	tcase_add_test(tc, a_body_sees_an_application_once_submitted_and_is_told_of_one_naming_it);
	tcase_add_test(tc, every_rule_has_a_name_of_its_own);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
