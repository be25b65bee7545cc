/*
 * Unit tests of core/party.c against the suite's own database: organisations
 * (validation field by field, first administrator, updates, pages), people
 * (who may add whom, in which roles), tokens (the first one, lineage,
 * revocation plain and as compromised) and authentication. No conformd: the
 * functions are called as server/ and cli/ call them.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coreworld.h"
#include "jsonx.h"
#include "party.h"
#include "tsupport.h"

static struct coreworld f;
static int made; /* for unique names and addresses */

static void setup(void)
{
	coreworld_open(&f, "party");
}

static void teardown(void)
{
	coreworld_destroy(&f);
}

static long long count(const char *sql)
{
	char v[24];
	coreworld_value(&f, v, sizeof v, sql, 0, NULL);
	return atoll(v);
}

/* An organisation of kind with its first administrator, as the scheme owner
 * (conformctl) makes it; id in id, the administrator in admin. */
static void make_org(const char *kind, char id[37], struct principal *admin)
{
	char text[640];
	made++;
	snprintf(text, sizeof text,
		 "{\"kind\":\"%s\",\"name\":\"Org %d\",\"country\":\"GB\",\"contact\":{\"email\":"
		 "\"org%d@example.org\"},\"administrator\":{\"name\":\"Admin %d\",\"email\":"
		 "\"admin%d@example.org\"}%s}",
		 kind, made, made, made, made,
		 strcmp(kind, "manufacturer") == 0
			 ? ",\"vulnerability_disclosure\":{\"contact\":\"security@example.org\","
			   "\"policy_url\":\"https://example.org/vd\",\"response_days\":5}"
			 : "");
	json_t *body = coreworld_json(text), *out = NULL;
	struct cf_error err;
	cf_err e = party_org_create(f.db, &f.cli, body, &out, &err);
	coreworld_expect("organisation", e, &err, CF_OK, NULL, NULL);
	snprintf(id, 37, "%s", jsonx_str(out, "id"));
	if (admin)
		coreworld_principal(&f, jsonx_str(json_object_get(out, "administrator"), "id"), admin);
	json_decref(body);
	json_decref(out);
}

/* A person made by actor; returns the call's code, the person in p. */
static cf_err add_person(const struct audit_actor *actor, const char *org, const char *roles,
			 struct principal *p, struct cf_error *err)
{
	char text[320];
	made++;
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"Person %d\",\"email\":\"person%d@example.org\","
		 "\"roles\":%s}", org, made, made, roles);
	json_t *body = coreworld_json(text), *out = NULL;
	cf_err e = party_user_create(f.db, actor, body, &out, err);
	if (!e && p)
		coreworld_principal(&f, jsonx_str(out, "id"), p);
	json_decref(body);
	json_decref(out);
	return e;
}

/* A token for user made by actor (coming with token id with, may be NULL). */
static cf_err token(const struct audit_actor *actor, const char *with, const char *user, char out[64],
		    char id[37], struct cf_error *err)
{
	json_t *j = NULL;
	cf_err e = party_token_create(f.db, actor, with, user, "unit", 30, &j, err);
	if (!e) {
		snprintf(out, 64, "%s", jsonx_str(j, "token"));
		snprintf(id, 37, "%s", jsonx_str(j, "id"));
	}
	json_decref(j);
	return e;
}

static const struct {
	const char *body, *pointer;
	cf_err code;
} bad_orgs[] = {
	{ "{\"kind\":\"assessment_body\",\"name\":\"X\",\"country\":\"GB\"}", "/contact", CF_EINVAL },
	{ "{\"kind\":\"assessment_body\",\"name\":\"X\",\"country\":\"gb\",\"contact\":{\"email\":"
	  "\"a@b.org\"}}", "/country", CF_EINVAL },
	{ "{\"kind\":\"assessment_body\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"},\"website\":\"ftp://example.org\"}", "/website", CF_EINVAL },
	{ "{\"kind\":\"assessment_body\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"nobody\"}}", "/contact/email", CF_EINVAL },
	{ "{\"kind\":\"manufacturer\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"}}", "/vulnerability_disclosure", CF_EINVAL },
	{ "{\"kind\":\"assessment_body\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"},\"vulnerability_disclosure\":{\"contact\":\"a@b.org\",\"policy_url\":"
	  "\"https://b.org\",\"response_days\":5}}", "/vulnerability_disclosure", CF_EINVAL },
	{ "{\"kind\":\"manufacturer\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"},\"vulnerability_disclosure\":{\"contact\":\"nobody\",\"policy_url\":"
	  "\"https://b.org\",\"response_days\":5}}", "/vulnerability_disclosure/contact", CF_EINVAL },
	{ "{\"kind\":\"manufacturer\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"},\"vulnerability_disclosure\":{\"contact\":\"a@b.org\",\"policy_url\":"
	  "\"b.org\",\"response_days\":5}}", "/vulnerability_disclosure/policy_url", CF_EINVAL },
	{ "{\"kind\":\"manufacturer\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"},\"vulnerability_disclosure\":{\"contact\":\"a@b.org\",\"policy_url\":"
	  "\"https://b.org\",\"response_days\":0}}", "/vulnerability_disclosure/response_days",
	  CF_EINVAL },
	{ "{\"kind\":\"bank\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":\"a@b.org\"}}",
	  "/kind", CF_EINVAL },
	{ "{\"kind\":\"scheme_owner\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":"
	  "\"a@b.org\"}}", "/kind", CF_EUNPROCESSABLE },
	{ "{\"kind\":\"retailer\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":\"a@b.org\"},"
	  "\"administrator\":{\"name\":\"A\",\"email\":\"not-an-address\"}}", "/administrator/email",
	  CF_EINVAL },
	{ "{\"kind\":\"retailer\",\"name\":\"X\",\"country\":\"GB\",\"contact\":{\"email\":\"a@b.org\"},"
	  "\"colour\":\"blue\"}", NULL, CF_EINVAL },
};

START_TEST(an_organisation_is_refused_field_by_field_and_nothing_is_written)
{
	long long before = count("SELECT count(*) FROM organisation");
	long long audit = count("SELECT count(*) FROM audit_log");
	for (size_t i = 0; i < sizeof bad_orgs / sizeof bad_orgs[0]; i++) {
		json_t *body = coreworld_json(bad_orgs[i].body), *out = NULL;
		struct cf_error err;
		cf_err e = party_org_create(f.db, &f.cli, body, &out, &err);
		coreworld_expect(bad_orgs[i].body, e, &err, bad_orgs[i].code, bad_orgs[i].pointer, NULL);
		ck_assert_ptr_null(out);
		json_decref(body);
	}
	ck_assert_int_eq(count("SELECT count(*) FROM organisation"), before);
	ck_assert_int_eq(count("SELECT count(*) FROM audit_log"), audit);
}
END_TEST

START_TEST(an_organisation_comes_with_its_first_administrator_and_an_audit_record)
{
	char id[37];
	struct principal admin;
	make_org("manufacturer", id, &admin);
	ck_assert_str_eq(admin.org_id, id);
	ck_assert_uint_eq(admin.roles, ROLE_ORG_ADMIN);
	ck_assert_str_eq(admin.org_kind, "manufacturer");
	const char *p[] = { id };
	char action[48];
	coreworld_value(&f, action, sizeof action,
			"SELECT action FROM audit_log WHERE object_id = $1 ORDER BY seq DESC LIMIT 1", 1, p);
	ck_assert_str_eq(action, "organisation.create");
	json_t *out = NULL;
	struct cf_error err;
	ck_assert(party_org_get(f.db, id, &out, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(out, "kind"), "manufacturer");
	json_decref(out);
	coreworld_expect("unknown id", party_org_get(f.db, "00000000-0000-4000-8000-000000000000", &out, &err),
			 &err, CF_ENOTFOUND, NULL, "no organisation");
	coreworld_expect("not an id", party_org_get(f.db, "x'; DROP TABLE organisation", &out, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
}
END_TEST

START_TEST(an_update_changes_fields_but_never_the_kind_or_the_administrators)
{
	char id[37];
	make_org("assessment_body", id, NULL);
	struct cf_error err;
	json_t *out = NULL;
	json_t *kind = coreworld_json("{\"kind\":\"manufacturer\"}");
	coreworld_expect("kind", party_org_update(f.db, &f.cli, id, kind, &out, &err), &err, CF_EINVAL,
			 "/kind", "cannot change");
	json_t *admin = coreworld_json("{\"administrator\":{\"name\":\"B\",\"email\":\"b@example.org\"}}");
	coreworld_expect("administrator", party_org_update(f.db, &f.cli, id, admin, &out, &err), &err,
			 CF_EINVAL, "/administrator", NULL);
	json_t *name = coreworld_json("{\"name\":\"Renamed Lab\",\"contact\":{\"phone\":\"+44 1\"}}");
	coreworld_expect("name", party_org_update(f.db, &f.cli, id, name, &out, &err), &err, CF_OK, NULL,
			 NULL);
	json_decref(out);
	ck_assert(party_org_get(f.db, id, &out, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(out, "name"), "Renamed Lab");
	ck_assert_str_eq(jsonx_str(out, "kind"), "assessment_body");
	json_decref(out);
	json_decref(kind);
	json_decref(admin);
	json_decref(name);
}
END_TEST

START_TEST(organisations_are_listed_by_kind_a_page_at_a_time)
{
	char id[37];
	for (int i = 0; i < 3; i++)
		make_org("regulator", id, NULL);
	long long total = count("SELECT count(*) FROM organisation WHERE kind = 'regulator'");
	json_t *page = NULL;
	struct cf_error err;
	ck_assert(party_org_list(f.db, "regulator", NULL, 2, &page, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 2);
	const char *next = jsonx_str(page, "next");
	ck_assert_ptr_nonnull(next);
	json_t *rest = NULL;
	ck_assert(party_org_list(f.db, "regulator", next, 100, &rest, &err) == CF_OK);
	ck_assert_int_eq((long long)json_array_size(json_object_get(rest, "items")), total - 2);
	ck_assert(json_is_null(json_object_get(rest, "next")));
	size_t i;
	json_t *o;
	json_array_foreach(json_object_get(rest, "items"), i, o) {
		ck_assert_str_eq(jsonx_str(o, "kind"), "regulator");
		ck_assert_str_gt(jsonx_str(o, "id"), next); /* keyset: strictly after */
	}
	json_decref(page);
	json_decref(rest);
	coreworld_expect("kind", party_org_list(f.db, "bank", NULL, 10, &page, &err), &err, CF_EINVAL, NULL,
			 "not a kind");
	coreworld_expect("after", party_org_list(f.db, NULL, "42", 10, &page, &err), &err, CF_EINVAL, NULL,
			 "after");
}
END_TEST

START_TEST(an_administrator_staffs_their_own_organisation_in_roles_of_its_kind)
{
	char body[37], maker[37];
	struct principal body_admin, maker_admin, assessor;
	make_org("assessment_body", body, &body_admin);
	make_org("manufacturer", maker, &maker_admin);
	struct audit_actor by = party_actor(&body_admin);
	struct cf_error err;
	coreworld_expect("assessor", add_person(&by, body, "[\"assessor\",\"certifier\"]", &assessor, &err),
			 &err, CF_OK, NULL, NULL);
	ck_assert_uint_eq(assessor.roles, ROLE_ASSESSOR | ROLE_CERTIFIER);
	coreworld_expect("other organisation", add_person(&by, maker, "[\"applicant\"]", NULL, &err), &err,
			 CF_EFORBIDDEN, "/org_id", NULL);
	coreworld_expect("role of another kind", add_person(&by, body, "[\"applicant\"]", NULL, &err), &err,
			 CF_EUNPROCESSABLE, "/roles", NULL);
	coreworld_expect("admin", add_person(&by, body, "[\"admin\"]", NULL, &err), &err, CF_EUNPROCESSABLE,
			 "/roles", NULL);
	coreworld_expect("unknown role", add_person(&by, body, "[\"boss\"]", NULL, &err), &err, CF_EINVAL,
			 NULL, NULL);
	coreworld_expect("twice", add_person(&by, body, "[\"assessor\",\"assessor\"]", NULL, &err), &err,
			 CF_EINVAL, NULL, "twice");
	coreworld_expect("no role", add_person(&by, body, "[]", NULL, &err), &err, CF_EINVAL, "/roles", NULL);
	/* a staff member is not an administrator */
	struct audit_actor staff = party_actor(&assessor);
	coreworld_expect("staff", add_person(&staff, body, "[\"assessor\"]", NULL, &err), &err, CF_EFORBIDDEN,
			 NULL, NULL);
}
END_TEST

START_TEST(the_scheme_owner_makes_a_first_administrator_and_nobody_else)
{
	char body[37];
	struct principal body_admin, second;
	make_org("assessment_body", body, &body_admin);
	struct cf_error err;
	coreworld_expect("staff", add_person(&f.cli, body, "[\"assessor\"]", NULL, &err), &err, CF_EFORBIDDEN,
			 "/roles", "first administrator");
	coreworld_expect("second administrator", add_person(&f.cli, body, "[\"org_admin\"]", NULL, &err), &err,
			 CF_EFORBIDDEN, "/org_id", "has an administrator");
	/* the scheme owner changes nobody of another organisation... */
	json_t *off = coreworld_json("{\"active\":false}"), *out = NULL;
	struct audit_actor owner = party_actor(&f.admin);
	coreworld_expect("not theirs", party_user_update(f.db, &owner, body_admin.user_id, off, &out, &err),
			 &err, CF_EFORBIDDEN, NULL, "own organisation");
	/* ...but once the only administrator has gone, it may make one again */
	struct audit_actor self = party_actor(&body_admin);
	coreworld_expect("leaves", party_user_update(f.db, &self, body_admin.user_id, off, &out, &err), &err,
			 CF_OK, NULL, NULL);
	json_decref(out);
	json_decref(off);
	coreworld_expect("replacement", add_person(&f.cli, body, "[\"org_admin\"]", &second, &err), &err, CF_OK,
			 NULL, NULL);
	ck_assert_uint_eq(second.roles, ROLE_ORG_ADMIN);
}
END_TEST

START_TEST(an_email_address_belongs_to_one_person_whatever_its_case)
{
	char body[37];
	struct principal admin;
	make_org("accreditation_body", body, &admin);
	struct audit_actor by = party_actor(&admin);
	char text[200];
	snprintf(text, sizeof text, "{\"org_id\":\"%s\",\"name\":\"A\",\"email\":\"Same@Example.org\","
		 "\"roles\":[\"accreditor\"]}", body);
	json_t *j = coreworld_json(text), *out = NULL;
	struct cf_error err;
	coreworld_expect("first", party_user_create(f.db, &by, j, &out, &err), &err, CF_OK, NULL, NULL);
	char id[37], found[37];
	snprintf(id, sizeof id, "%s", jsonx_str(out, "id"));
	json_decref(out);
	json_decref(j);
	snprintf(text, sizeof text, "{\"org_id\":\"%s\",\"name\":\"B\",\"email\":\"same@example.ORG\","
		 "\"roles\":[\"accreditor\"]}", body);
	j = coreworld_json(text);
	coreworld_expect("second", party_user_create(f.db, &by, j, &out, &err), &err, CF_ECONFLICT, "/email",
			 NULL);
	json_decref(j);
	ck_assert(party_user_find(f.db, "same@example.org", found, &err) == CF_OK);
	ck_assert_str_eq(found, id);
	ck_assert(party_user_find(f.db, id, found, &err) == CF_OK);
	ck_assert_str_eq(found, id);
	coreworld_expect("nobody", party_user_find(f.db, "nobody@example.org", found, &err), &err,
			 CF_ENOTFOUND, NULL, NULL);
}
END_TEST

START_TEST(a_first_token_then_the_person_makes_their_own)
{
	char org[37], tok[64], tok_id[37], own[64], own_id[37];
	struct principal admin, person, who;
	make_org("manufacturer", org, &admin);
	struct audit_actor by = party_actor(&admin);
	struct cf_error err;
	ck_assert(add_person(&by, org, "[\"applicant\"]", &person, &err) == CF_OK);
	coreworld_expect("first", token(&by, NULL, person.user_id, tok, tok_id, &err), &err, CF_OK, NULL, NULL);
	ck_assert_uint_eq(strlen(tok), TOKEN_LEN);
	ck_assert(strncmp(tok, TOKEN_PREFIX, 4) == 0);
	/* only the SHA-256 is kept, and the last four characters as a hint */
	const char *p[] = { tok, tok_id };
	char stored[8];
	coreworld_value(&f, stored, sizeof stored, "SELECT count(*) FROM api_token WHERE id = $2 AND"
			" token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') AND hint = right($1, 4)",
			2, p);
	ck_assert_str_eq(stored, "1");
	coreworld_expect("authenticate", party_authenticate(f.db, tok, &who, &err), &err, CF_OK, NULL, NULL);
	ck_assert_str_eq(who.user_id, person.user_id);
	ck_assert_str_eq(who.org_id, org);
	ck_assert_str_eq(who.token_id, tok_id);
	ck_assert_uint_eq(who.roles, ROLE_APPLICANT);
	/* the rest the person makes themselves */
	coreworld_expect("second by the administrator", token(&by, NULL, person.user_id, own, own_id, &err),
			 &err, CF_ECONFLICT, NULL, NULL);
	struct audit_actor self = party_actor(&who);
	coreworld_expect("own", token(&self, who.token_id, person.user_id, own, own_id, &err), &err, CF_OK,
			 NULL, NULL);
	char owner[37];
	ck_assert(party_token_owner(f.db, own_id, owner, &err) == CF_OK);
	ck_assert_str_eq(owner, person.user_id);
	coreworld_expect("no such token", party_token_owner(f.db, "00000000-0000-4000-8000-000000000000",
							    owner, &err), &err, CF_ENOTFOUND, NULL, NULL);
	json_t *list = NULL;
	ck_assert(party_token_list(f.db, person.user_id, &list, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(list, "items")), 2);
	json_decref(list);
}
END_TEST

START_TEST(revoking_plainly_keeps_the_successor_and_as_compromised_takes_it_too)
{
	char org[37], a[64], a_id[37], b[64], b_id[37], c[64], c_id[37];
	struct principal admin, person, who;
	make_org("manufacturer", org, &admin);
	struct audit_actor by = party_actor(&admin);
	struct cf_error err;
	ck_assert(add_person(&by, org, "[\"applicant\"]", &person, &err) == CF_OK);
	ck_assert(token(&by, NULL, person.user_id, a, a_id, &err) == CF_OK);
	ck_assert(party_authenticate(f.db, a, &who, &err) == CF_OK);
	struct audit_actor self = party_actor(&who);
	ck_assert(token(&self, a_id, person.user_id, b, b_id, &err) == CF_OK);
	json_t *out = NULL;
	/* rotation: b was made with a; revoking a leaves b */
	coreworld_expect("plain", party_token_revoke(f.db, &self, a_id, false, &out, &err), &err, CF_OK, NULL,
			 NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(out, "also_revoked")), 0);
	json_decref(out);
	coreworld_expect("revoked", party_authenticate(f.db, a, &who, &err), &err, CF_EUNAUTH, NULL, NULL);
	ck_assert(strstr(err.detail, a) == NULL);
	ck_assert(party_authenticate(f.db, b, &who, &err) == CF_OK);
	/* c made with b; b revoked as compromised takes c with it */
	self = party_actor(&who);
	ck_assert(token(&self, b_id, person.user_id, c, c_id, &err) == CF_OK);
	coreworld_expect("compromised", party_token_revoke(f.db, &self, b_id, true, &out, &err), &err, CF_OK,
			 NULL, NULL);
	ck_assert_uint_eq(json_array_size(json_object_get(out, "also_revoked")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "also_revoked"), 0)), c_id);
	json_decref(out);
	coreworld_expect("offspring", party_authenticate(f.db, c, &who, &err), &err, CF_EUNAUTH, NULL, NULL);
	/* with every token revoked, the administrator may hand out a new first one */
	coreworld_expect("replacement", token(&by, NULL, person.user_id, a, a_id, &err), &err, CF_OK, NULL, NULL);
}
END_TEST

START_TEST(authentication_refuses_without_repeating_the_token)
{
	static const char *const bad[] = {
		"", "Bearer", "cfm_", "cfm_short", "xyz_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"cfm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", /* well-formed, unknown */
		"cfm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA!",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct principal who;
		struct cf_error err;
		coreworld_expect(bad[i], party_authenticate(f.db, bad[i], &who, &err), &err, CF_EUNAUTH, NULL,
				 NULL);
		if (strlen(bad[i]) > 8)
			ck_assert_msg(strstr(err.detail, bad[i] + 4) == NULL, "the error repeats the token: %s",
				      err.detail);
		ck_assert_str_eq(who.user_id, "");
	}
	struct principal who;
	struct cf_error err;
	coreworld_expect("NULL", party_authenticate(f.db, NULL, &who, &err), &err, CF_EUNAUTH, NULL, NULL);
}
END_TEST

START_TEST(a_deactivated_person_no_longer_authenticates)
{
	char org[37], tok[64], tok_id[37];
	struct principal admin, person, who;
	make_org("retailer", org, &admin);
	struct audit_actor by = party_actor(&admin);
	struct cf_error err;
	ck_assert(add_person(&by, org, "[\"org_admin\"]", &person, &err) == CF_OK);
	ck_assert(token(&by, NULL, person.user_id, tok, tok_id, &err) == CF_OK);
	ck_assert(party_authenticate(f.db, tok, &who, &err) == CF_OK);
	json_t *off = coreworld_json("{\"active\":false}"), *out = NULL;
	coreworld_expect("deactivate", party_user_update(f.db, &by, person.user_id, off, &out, &err), &err,
			 CF_OK, NULL, NULL);
	json_decref(out);
	json_decref(off);
	coreworld_expect("inactive", party_authenticate(f.db, tok, &who, &err), &err, CF_EUNAUTH, NULL, NULL);
}
END_TEST

START_TEST(every_role_parses_back_from_its_name)
{
	int n = 0;
	for (unsigned bit = 1; bit <= ROLE_ALL; bit <<= 1, n++) {
		const char *name = party_role_name(bit);
		ck_assert_ptr_nonnull(name);
		ck_assert_uint_eq(party_role_parse(name), bit);
	}
	ck_assert_int_eq(n, ROLE_COUNT);
	ck_assert_uint_eq(party_role_parse("boss"), 0);
	ck_assert_uint_eq(party_role_parse("Admin"), 0);
	ck_assert_uint_eq(party_role_parse(""), 0);
	/* the database's enum has every role C knows */
	for (unsigned bit = 1; bit <= ROLE_ALL; bit <<= 1) {
		const char *p[] = { party_role_name(bit) };
		char v[8];
		coreworld_value(&f, v, sizeof v, "SELECT count(*) FROM unnest(enum_range(NULL::user_role)) r"
				" WHERE r::text = $1", 1, p);
		ck_assert_msg(strcmp(v, "1") == 0, "the database has no role %s", p[0]);
	}
}
END_TEST

START_TEST(people_are_listed_by_organisation_a_page_at_a_time)
{
	char org[37];
	struct principal admin;
	make_org("accreditation_body", org, &admin);
	struct audit_actor by = party_actor(&admin);
	struct cf_error err;
	for (int i = 0; i < 3; i++)
		ck_assert(add_person(&by, org, "[\"accreditor\"]", NULL, &err) == CF_OK);
	json_t *page = NULL, *rest = NULL;
	ck_assert(party_user_list(f.db, org, NULL, 3, &page, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 3);
	const char *next = jsonx_str(page, "next");
	ck_assert_ptr_nonnull(next);
	ck_assert(party_user_list(f.db, org, next, 3, &rest, &err) == CF_OK);
	ck_assert_uint_eq(json_array_size(json_object_get(rest, "items")), 1); /* 3 people and the administrator */
	ck_assert(json_is_null(json_object_get(rest, "next")));
	size_t i;
	json_t *u;
	json_array_foreach(json_object_get(rest, "items"), i, u) {
		ck_assert_str_eq(jsonx_str(json_object_get(u, "organisation"), "id"), org);
		ck_assert_str_gt(jsonx_str(u, "id"), next);
	}
	json_decref(page);
	json_decref(rest);
	coreworld_expect("org", party_user_list(f.db, "acme", NULL, 3, &page, &err), &err, CF_EINVAL, NULL,
			 "org_id");
	coreworld_expect("after", party_user_list(f.db, org, "7", 3, &page, &err), &err, CF_EINVAL, NULL,
			 "after");
}
END_TEST

START_TEST(a_person_changes_roles_within_their_organisations_kind)
{
	char body[37], other[37];
	struct principal admin, other_admin, person;
	make_org("assessment_body", body, &admin);
	make_org("assessment_body", other, &other_admin);
	struct audit_actor by = party_actor(&admin);
	struct cf_error err;
	ck_assert(add_person(&by, body, "[\"assessor\"]", &person, &err) == CF_OK);
	json_t *out = NULL;
	json_t *certifier = coreworld_json("{\"roles\":[\"certifier\"],\"name\":\"Renamed\"}");
	coreworld_expect("certifier", party_user_update(f.db, &by, person.user_id, certifier, &out, &err), &err,
			 CF_OK, NULL, NULL);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(out, "roles"), 0)), "certifier");
	ck_assert_str_eq(jsonx_str(out, "name"), "Renamed");
	json_decref(out);
	json_t *applicant = coreworld_json("{\"roles\":[\"applicant\"]}");
	coreworld_expect("another kind's", party_user_update(f.db, &by, person.user_id, applicant, &out, &err),
			 &err, CF_EUNPROCESSABLE, "/roles", NULL);
	json_t *colour = coreworld_json("{\"colour\":\"blue\"}");
	coreworld_expect("unknown member", party_user_update(f.db, &by, person.user_id, colour, &out, &err),
			 &err, CF_EINVAL, NULL, NULL);
	struct audit_actor stranger = party_actor(&other_admin);
	coreworld_expect("another organisation's administrator",
		       party_user_update(f.db, &stranger, person.user_id, certifier, &out, &err), &err,
		       CF_EFORBIDDEN, NULL, NULL);
	coreworld_expect("nobody", party_user_update(f.db, &by, "00000000-0000-4000-8000-000000000000",
						     certifier, &out, &err), &err, CF_ENOTFOUND, NULL, NULL);
	/* what the database holds is what the first change made */
	coreworld_principal(&f, person.user_id, &person);
	ck_assert_uint_eq(person.roles, ROLE_CERTIFIER);
	char org[37];
	ck_assert(party_user_org(f.db, person.user_id, org, &err) == CF_OK);
	ck_assert_str_eq(org, body);
	coreworld_expect("org of nobody", party_user_org(f.db, "00000000-0000-4000-8000-000000000000", org, &err),
			 &err, CF_ENOTFOUND, NULL, NULL);
	json_decref(certifier);
	json_decref(applicant);
	json_decref(colour);
}
END_TEST

START_TEST(a_token_lives_a_bounded_time_and_only_for_an_active_person)
{
	char org[37];
	struct principal admin, person;
	make_org("manufacturer", org, &admin);
	struct audit_actor by = party_actor(&admin);
	struct cf_error err;
	ck_assert(add_person(&by, org, "[\"applicant\"]", &person, &err) == CF_OK);
	json_t *out = NULL;
	static const int bad_days[] = { 0, -1, TOKEN_DAYS_MAX + 1 };
	for (size_t i = 0; i < sizeof bad_days / sizeof bad_days[0]; i++)
		coreworld_expect("days", party_token_create(f.db, &by, NULL, person.user_id, "t", bad_days[i], &out,
							    &err), &err, CF_EINVAL, "/expires_in_days", NULL);
	coreworld_expect("nobody", party_token_create(f.db, &by, NULL, "00000000-0000-4000-8000-000000000000",
						      "t", 30, &out, &err), &err, CF_ENOTFOUND, NULL, NULL);
	/* an inactive person gets none */
	json_t *off = coreworld_json("{\"active\":false}");
	ck_assert(party_user_update(f.db, &by, person.user_id, off, &out, &err) == CF_OK);
	json_decref(out);
	json_decref(off);
	coreworld_expect("inactive", party_token_create(f.db, &by, NULL, person.user_id, "t", 30, &out, &err),
			 &err, CF_EUNPROCESSABLE, NULL, "not active");
	/* the longest life is the limit, to the day */
	struct principal second;
	ck_assert(add_person(&by, org, "[\"applicant\"]", &second, &err) == CF_OK);
	coreworld_expect("longest", party_token_create(f.db, &by, NULL, second.user_id, NULL, TOKEN_DAYS_MAX, &out,
						       &err), &err, CF_OK, NULL, NULL);
	const char *p[] = { jsonx_str(out, "id") };
	char days[8];
	coreworld_value(&f, days, sizeof days,
			"SELECT extract(day FROM expires_at - created_at)::int FROM api_token WHERE id = $1", 1, p);
	ck_assert_int_eq(atoi(days), TOKEN_DAYS_MAX);
	json_decref(out);
}
END_TEST

START_TEST(there_is_one_scheme_owner)
{
	json_t *org = coreworld_json("{\"kind\":\"scheme_owner\",\"name\":\"Second\",\"country\":\"GB\","
				     "\"contact\":{\"email\":\"second@example.org\"}}");
	json_t *admin = coreworld_json("{\"name\":\"Bea\",\"email\":\"bea@example.org\"}"), *out = NULL;
	struct cf_error err;
	coreworld_expect("bootstrap", party_bootstrap(f.db, &f.cli, org, admin, &out, &err), &err,
			 CF_ECONFLICT, NULL, NULL);
	json_decref(org);
	json_decref(admin);
	ck_assert_int_eq(count("SELECT count(*) FROM organisation WHERE kind = 'scheme_owner'"), 1);
	struct principal who = f.admin;
	json_t *me = NULL;
	ck_assert(party_me(f.db, &who, &me, &err) == CF_OK);
	ck_assert_str_eq(jsonx_str(json_object_get(me, "user"), "id"), f.admin.user_id);
	ck_assert_str_eq(jsonx_str(json_object_get(me, "organisation"), "kind"), "scheme_owner");
	json_decref(me);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("party");
	TCase *tc = tcase_create("party");
	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, an_organisation_is_refused_field_by_field_and_nothing_is_written);
	tcase_add_test(tc, an_organisation_comes_with_its_first_administrator_and_an_audit_record);
	tcase_add_test(tc, an_update_changes_fields_but_never_the_kind_or_the_administrators);
	tcase_add_test(tc, organisations_are_listed_by_kind_a_page_at_a_time);
	tcase_add_test(tc, an_administrator_staffs_their_own_organisation_in_roles_of_its_kind);
	tcase_add_test(tc, the_scheme_owner_makes_a_first_administrator_and_nobody_else);
	tcase_add_test(tc, an_email_address_belongs_to_one_person_whatever_its_case);
	tcase_add_test(tc, a_first_token_then_the_person_makes_their_own);
	tcase_add_test(tc, revoking_plainly_keeps_the_successor_and_as_compromised_takes_it_too);
	tcase_add_test(tc, authentication_refuses_without_repeating_the_token);
	tcase_add_test(tc, a_deactivated_person_no_longer_authenticates);
	tcase_add_test(tc, every_role_parses_back_from_its_name);
	tcase_add_test(tc, people_are_listed_by_organisation_a_page_at_a_time);
	tcase_add_test(tc, a_person_changes_roles_within_their_organisations_kind);
	tcase_add_test(tc, a_token_lives_a_bounded_time_and_only_for_an_active_person);
	tcase_add_test(tc, there_is_one_scheme_owner);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
