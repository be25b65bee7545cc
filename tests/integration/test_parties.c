/*
 * Integration tests of parties, tokens, accreditation and the audit trail:
 * tokens never appear in clear in the logs or the database; the audit chain
 * names the record a superuser altered; an accreditation suspended at T
 * stops covering from T and covers again when reinstated; failed
 * authentications are throttled per address.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accreditation.h"
#include "db.h"
#include "jsonx.h"
#include "mem.h"
#include "proc.h"
#include "tsupport.h"
#include "world.h"

static struct world w;

static void setup(void)
{
	/* 127.0.0.7 stands for a reverse proxy in front of conformd */
	const char *env[] = { "CONFORM_TRUSTED_PROXIES=127.0.0.7, ::1", NULL };
	world_create(&w, "parties", env);
}

static void teardown(void)
{
	world_destroy(&w);
}

static json_t *body_of(const char *text)
{
	json_t *j = json_loads(text, 0, NULL);
	ck_assert_ptr_nonnull(j);
	return j;
}

START_TEST(organisations_are_validated)
{
	long status;
	/* a manufacturer needs its vulnerability disclosure contact */
	json_t *b = body_of("{\"kind\":\"manufacturer\",\"name\":\"No VDP Ltd\",\"country\":\"GB\","
			    "\"contact\":{\"email\":\"a@b.example\"}}");
	json_t *r = testsrv_api(&w.srv, "POST", "/v1/organisations", w.admin.token, b, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/vulnerability_disclosure");
	json_decref(r);
	json_decref(b);
	b = body_of("{\"kind\":\"assessment_body\",\"name\":\"Lab\",\"country\":\"gb\","
		    "\"contact\":{\"email\":\"a@b.example\"}}");
	r = testsrv_api(&w.srv, "POST", "/v1/organisations", w.admin.token, b, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/country");
	json_decref(r);
	json_decref(b);
	b = body_of("{\"kind\":\"assessment_body\",\"name\":\"Lab\",\"country\":\"GB\","
		    "\"contact\":{\"email\":\"a@b.example\",\"fax\":\"1\"}}");
	r = testsrv_api(&w.srv, "POST", "/v1/organisations", w.admin.token, b, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/contact/fax");
	json_decref(r);
	json_decref(b);
	b = body_of("{\"kind\":\"scheme_owner\",\"name\":\"Second Owner\",\"country\":\"GB\","
		    "\"contact\":{\"email\":\"a@b.example\"}}");
	r = testsrv_api(&w.srv, "POST", "/v1/organisations", w.admin.token, b, &status);
	ck_assert_int_eq(status, 422);
	json_decref(r);
	json_decref(b);
	/* a JSON body must say it is JSON */
	struct http_resp h;
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w.admin.token);
	const char *hdr[] = { auth, "Content-Type: text/plain", NULL };
	testsrv_req(&w.srv, &h, "POST", "/v1/organisations", hdr, "{}");
	ck_assert_int_eq(h.status, 415);
	http_resp_free(&h);

	/* the manufacturer keeps its disclosure contact current itself */
	char path[96];
	snprintf(path, sizeof path, "/v1/organisations/%s", w.applicant.org);
	b = body_of("{\"vulnerability_disclosure\":{\"contact\":\"https://acme.example/report\","
		    "\"policy_url\":\"https://acme.example/vdp\",\"response_days\":3}}");
	r = testsrv_api_ok(&w.srv, "PATCH", path, w.applicant.token, b, 200);
	ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(r, "vulnerability_disclosure"),
							    "response_days")), 3);
	json_decref(r);
	json_decref(b);
}
END_TEST

START_TEST(organisations_and_people_come_in_pages)
{
	/* walk both lists two at a time: every one once, in order, then next is null */
	const char *lists[] = { "/v1/organisations", "/v1/users" };
	for (size_t l = 0; l < 2; l++) {
		json_t *all = testsrv_api_ok(&w.srv, "GET", lists[l], w.admin.token, NULL, 200);
		size_t total = json_array_size(json_object_get(all, "items"));
		ck_assert_uint_gt(total, 4);
		char path[160], last[37] = "";
		size_t seen = 0;
		snprintf(path, sizeof path, "%s?limit=2", lists[l]);
		for (;;) {
			json_t *page = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
			size_t i;
			json_t *it;
			json_array_foreach(json_object_get(page, "items"), i, it) {
				ck_assert_str_eq(jsonx_str(it, "id"),
						 jsonx_str(json_array_get(json_object_get(all, "items"), seen), "id"));
				ck_assert_str_gt(jsonx_str(it, "id"), last);
				snprintf(last, sizeof last, "%s", jsonx_str(it, "id"));
				seen++;
			}
			const char *next = jsonx_str(page, "next");
			if (next) {
				ck_assert_str_eq(next, last);
				snprintf(path, sizeof path, "%s?limit=2&after=%s", lists[l], next);
			}
			json_decref(page);
			if (!next)
				break;
		}
		ck_assert_uint_eq(seen, total);
		json_decref(all);
	}
}
END_TEST

START_TEST(people_hold_roles_that_fit_their_organisation)
{
	long status;
	char text[256];
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"Wrong Role\",\"email\":\"wrong@example.org\","
		 "\"roles\":[\"applicant\"]}", w.assessor.org);
	json_t *b = body_of(text);
	json_t *r = testsrv_api(&w.srv, "POST", "/v1/users", w.admin.token, b, &status);
	ck_assert_int_eq(status, 422);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/roles");
	json_decref(r);
	json_decref(b);
	/* e-mail addresses are unique, whatever their case */
	json_t *me = testsrv_api_ok(&w.srv, "GET", "/v1/me", w.applicant.token, NULL, 200);
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"Twin\",\"email\":\"%s\",\"roles\":[\"applicant\"]}",
		 w.applicant.org, jsonx_str(json_object_get(me, "user"), "email"));
	for (char *p = strstr(text, "person"); p && *p != '@'; p++)
		*p = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
	json_decref(me);
	b = body_of(text);
	r = testsrv_api(&w.srv, "POST", "/v1/users", w.maker_admin.token, b, &status);
	ck_assert_int_eq(status, 409);
	json_decref(r);
	json_decref(b);
}
END_TEST

START_TEST(tokens_live_expire_and_die)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant.user);
	json_t *b = body_of("{\"name\":\"laptop\",\"expires_in_days\":30}");
	json_t *t = testsrv_api_ok(&w.srv, "POST", path, w.applicant.token, b, 201);
	json_decref(b);
	const char *token = jsonx_str(t, "token");
	json_array_append(w.secrets, json_object_get(t, "token"));
	ck_assert_uint_eq(strlen(token), 47);
	ck_assert(strncmp(token, "cfm_", 4) == 0);
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/me", token, NULL, 200));

	/* listed without its secret, with its use noted */
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, w.applicant.token, NULL, 200);
	char *dump = json_dumps(list, 0);
	ck_assert_ptr_null(strstr(dump, token));
	ck_assert_ptr_nonnull(strstr(dump, "\"hint\""));
	free(dump);
	json_decref(list);

	/* revoked: refused at once */
	snprintf(path, sizeof path, "/v1/tokens/%s/revoke", jsonx_str(t, "id"));
	json_t *rv = testsrv_api_ok(&w.srv, "POST", path, w.applicant.token, NULL, 200);
	ck_assert_str_eq(jsonx_str(rv, "state"), "revoked");
	json_decref(rv);
	long status;
	json_t *r = testsrv_api(&w.srv, "GET", "/v1/me", token, NULL, &status);
	ck_assert_int_eq(status, 401);
	ck_assert(strstr(jsonx_str(r, "detail"), "revoked"));
	json_decref(r);

	/* expired: refused (expiry set in the past by the superuser) */
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant.user);
	json_t *t2 = testsrv_api_ok(&w.srv, "POST", path, w.applicant.token, NULL, 201);
	json_array_append(w.secrets, json_object_get(t2, "token"));
	const char *t2_id[] = { jsonx_str(t2, "id") };
	PQclear(testdb_super_query(&w.db,
				   "UPDATE api_token SET created_at = now() - interval '2 days',"
				   " expires_at = now() - interval '1 day' WHERE id = $1", 1, t2_id));
	r = testsrv_api(&w.srv, "GET", "/v1/me", jsonx_str(t2, "token"), NULL, &status);
	ck_assert_int_eq(status, 401);
	ck_assert(strstr(jsonx_str(r, "detail"), "expired"));
	json_decref(r);

	/* a deactivated user's tokens stop working */
	struct actor temp;
	world_person(&w, &temp, w.applicant2.org, "[\"applicant\"]", "Temp Worker");
	snprintf(path, sizeof path, "/v1/users/%s", temp.user);
	b = body_of("{\"active\":false}");
	json_decref(testsrv_api_ok(&w.srv, "PATCH", path, w.maker2_admin.token, b, 200));
	json_decref(b);
	json_decref(testsrv_api(&w.srv, "GET", "/v1/me", temp.token, NULL, &status));
	ck_assert_int_eq(status, 401);
	json_decref(t);
	json_decref(t2);
}
END_TEST

/* POST path as who; asserts a 403 problem that says why (detail holds want). */
static void forbidden(const char *method, const char *path, const char *token, const char *body_text,
		      const char *want)
{
	char auth[96];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	const char *headers[] = { auth, "Content-Type: application/json", NULL };
	struct http_resp r;
	testsrv_req(&w.srv, &r, method, path, headers, body_text ? body_text : "{}");
	ck_assert_msg(r.status == 403, "%s %s: %ld, expected 403: %.300s", method, path, r.status, r.body);
	char ct[64];
	ck_assert_ptr_nonnull(http_header(&r, "Content-Type", ct, sizeof ct));
	ck_assert_str_eq(ct, "application/problem+json");
	json_t *p = json_loadb(r.body, r.len, 0, NULL);
	ck_assert_str_eq(jsonx_str(p, "type"), "urn:conform:problem:forbidden");
	ck_assert_msg(strstr(jsonx_str(p, "detail"), want), "%s %s: %s", method, path, jsonx_str(p, "detail"));
	json_decref(p);
	http_resp_free(&r);
}

/* A new person of org made by its administrator, with no token yet; id in out. */
static void person_without_token(const struct actor *admin, const char *org, const char *role,
				 char out[37])
{
	static int n;
	char text[256];
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"New %s\",\"email\":\"new%d.%d@example.org\","
		 "\"roles\":[\"%s\"]}", org, role, ++n, (int)getpid(), role);
	json_t *b = body_of(text);
	json_t *u = testsrv_api_ok(&w.srv, "POST", "/v1/users", admin->token, b, 201);
	snprintf(out, 37, "%s", jsonx_str(u, "id"));
	json_decref(u);
	json_decref(b);
}

/* Makes a token for user as who (NULL body); returns the reply (new reference). */
static json_t *token_for(const char *user, const char *token)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", user);
	json_t *t = testsrv_api_ok(&w.srv, "POST", path, token, NULL, 201);
	json_array_append(w.secrets, json_object_get(t, "token"));
	return t;
}

static long me_status(const char *token)
{
	long status;
	http_set_source("127.0.0.5"); /* failures of its own, apart from the throttle test's */
	json_decref(testsrv_api(&w.srv, "GET", "/v1/me", token, NULL, &status));
	http_set_source(NULL);
	return status;
}

static json_t *token_revoke(const char *token_id, const char *as, bool compromised)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/tokens/%s/revoke", token_id);
	json_t *b = compromised ? body_of("{\"compromised\":true}") : NULL;
	json_t *r = testsrv_api_ok(&w.srv, "POST", path, as, b, 200);
	json_decref(b);
	return r;
}

START_TEST(the_scheme_owner_never_staffs_a_body)
{
	char path[128], text[512], fresh[37];
	/* the scheme owner's admin adds no assessor to a body ... */
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"Planted Assessor\",\"email\":\"planted@example.org\","
		 "\"roles\":[\"assessor\"]}", w.body_admin.org);
	forbidden("POST", "/v1/users", w.admin.token, text, "first administrator");
	/* ... nor a second administrator to a body that has one */
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"Planted Admin\",\"email\":\"planted@example.org\","
		 "\"roles\":[\"org_admin\"]}", w.body_admin.org);
	forbidden("POST", "/v1/users", w.admin.token, text, "has an administrator already");
	/* the body's administrator adds one, and the scheme owner cannot token them */
	person_without_token(&w.body_admin, w.body_admin.org, "assessor", fresh);
	snprintf(path, sizeof path, "/v1/users/%s/tokens", fresh);
	forbidden("POST", path, w.admin.token, NULL, "administrator hands out theirs");
	/* nor change their roles, nor deactivate them */
	snprintf(path, sizeof path, "/v1/users/%s", fresh);
	forbidden("PATCH", path, w.admin.token, "{\"roles\":[\"assessor\",\"certifier\"]}", "");
	forbidden("PATCH", path, w.admin.token, "{\"active\":false}", "");
	/* the body's administrator does all of it */
	json_t *b = body_of("{\"roles\":[\"assessor\",\"certifier\"]}");
	json_t *u = testsrv_api_ok(&w.srv, "PATCH", path, w.body_admin.token, b, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(u, "roles")), 2);
	json_decref(u);
	json_decref(b);
	json_t *t = token_for(fresh, w.body_admin.token);
	ck_assert_str_eq(jsonx_str(t, "user_id"), fresh);
	ck_assert_int_eq(me_status(jsonx_str(t, "token")), 200);
	json_decref(t);

	/* an organisation's administrator reaches no other organisation */
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"Planted Applicant\",\"email\":\"planted2@example.org\","
		 "\"roles\":[\"applicant\"]}", w.applicant.org);
	forbidden("POST", "/v1/users", w.body_admin.token, text, "their own organisation only");
	char other[37];
	person_without_token(&w.maker_admin, w.applicant.org, "applicant", other);
	snprintf(path, sizeof path, "/v1/users/%s/tokens", other);
	forbidden("POST", path, w.body_admin.token, NULL, "");
	snprintf(path, sizeof path, "/v1/users/%s", other);
	forbidden("PATCH", path, w.body_admin.token, "{\"active\":false}", "");
	snprintf(path, sizeof path, "/v1/users?org_id=%s", w.applicant.org);
	forbidden("GET", path, w.body_admin.token, NULL, "its own people only");
	/* its list is its own people */
	json_t *list = testsrv_api_ok(&w.srv, "GET", "/v1/users?limit=100", w.body_admin.token, NULL, 200);
	size_t i;
	json_t *it;
	ck_assert_uint_ge(json_array_size(json_object_get(list, "items")), 5);
	json_array_foreach(json_object_get(list, "items"), i, it)
		ck_assert_str_eq(jsonx_str(json_object_get(it, "organisation"), "id"), w.body_admin.org);
	json_decref(list);
	/* and an org_admin of a body makes no admin of the scheme */
	snprintf(text, sizeof text,
		 "{\"name\":\"Would-be Admin\",\"email\":\"wouldbe@example.org\",\"roles\":[\"admin\"]}");
	b = body_of(text);
	long status;
	json_decref(testsrv_api(&w.srv, "POST", "/v1/users", w.body_admin.token, b, &status));
	ck_assert_int_eq(status, 422); /* the role does not fit a body */
	json_decref(b);

	/* a new organisation comes with its first administrator, whom the scheme
	 * owner tokens; that administrator staffs it */
	json_t *ob = body_of("{\"kind\":\"assessment_body\",\"name\":\"New Lab\",\"country\":\"FR\","
			     "\"contact\":{\"email\":\"lab@example.org\"},\"administrator\":"
			     "{\"name\":\"Lab Admin\",\"email\":\"labadmin@example.org\"}}");
	json_t *org = testsrv_api_ok(&w.srv, "POST", "/v1/organisations", w.admin.token, ob, 201);
	json_decref(ob);
	json_t *admin = json_object_get(org, "administrator");
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(admin, "roles"), 0)),
			 "org_admin");
	json_t *at = token_for(jsonx_str(admin, "id"), w.admin.token);
	snprintf(text, sizeof text,
		 "{\"name\":\"Lab Certifier\",\"email\":\"labcert@example.org\",\"roles\":[\"certifier\"]}");
	b = body_of(text); /* org_id: the administrator's own */
	u = testsrv_api_ok(&w.srv, "POST", "/v1/users", jsonx_str(at, "token"), b, 201);
	ck_assert_str_eq(jsonx_str(json_object_get(u, "organisation"), "id"), jsonx_str(org, "id"));
	json_decref(b);
	/* the scheme owner cannot token that certifier either */
	snprintf(path, sizeof path, "/v1/users/%s/tokens", jsonx_str(u, "id"));
	forbidden("POST", path, w.admin.token, NULL, "administrator hands out theirs");
	json_decref(u);
	json_decref(at);
	json_decref(org);
}
END_TEST

/* The scheme owner's own org_admin manages its people without its powers:
 * it makes no admin, no token for one, and changes none. */
START_TEST(only_an_admin_makes_or_changes_an_admin)
{
	char people_admin[37], new_admin[37], path[128], text[256];
	person_without_token(&w.admin, w.admin.org, "org_admin", people_admin);
	json_t *t = token_for(people_admin, w.admin.token);
	const char *tok = jsonx_str(t, "token");
	snprintf(text, sizeof text,
		 "{\"name\":\"Self-made Admin\",\"email\":\"selfmade@example.org\",\"roles\":[\"admin\"]}");
	forbidden("POST", "/v1/users", tok, text, "only the scheme owner's admin makes admins");
	person_without_token(&w.admin, w.admin.org, "admin", new_admin);
	snprintf(path, sizeof path, "/v1/users/%s/tokens", new_admin);
	forbidden("POST", path, tok, NULL, "only the scheme owner's admin makes a token for an admin");
	snprintf(path, sizeof path, "/v1/users/%s", new_admin);
	forbidden("PATCH", path, tok, "{\"active\":false}", "only the scheme owner's admin changes an admin");
	snprintf(path, sizeof path, "/v1/users/%s", people_admin);
	forbidden("PATCH", path, tok, "{\"roles\":[\"org_admin\",\"admin\"]}",
		  "only the scheme owner's admin makes admins");
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.admin.user);
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, tok, NULL, 200);
	snprintf(path, sizeof path, "/v1/tokens/%s/revoke",
		 jsonx_str(json_array_get(json_object_get(list, "items"), 0), "id"));
	json_decref(list);
	forbidden("POST", path, tok, NULL, "only the scheme owner's admin revokes an admin's token");
	/* its own people it does manage */
	snprintf(text, sizeof text,
		 "{\"name\":\"Scheme Clerk\",\"email\":\"clerk@example.org\",\"roles\":[\"org_admin\"]}");
	json_t *b = body_of(text);
	json_t *u = testsrv_api_ok(&w.srv, "POST", "/v1/users", tok, b, 201);
	ck_assert_str_eq(jsonx_str(json_object_get(u, "organisation"), "id"), w.admin.org);
	json_decref(u);
	json_decref(b);
	/* nor does it reach another organisation */
	snprintf(text, sizeof text,
		 "{\"org_id\":\"%s\",\"name\":\"X\",\"email\":\"x2@example.org\",\"roles\":[\"org_admin\"]}",
		 w.applicant.org);
	forbidden("POST", "/v1/users", tok, text, "their own organisation only");
	json_decref(t);
}
END_TEST

START_TEST(a_person_rotates_their_token)
{
	struct actor temp;
	world_person(&w, &temp, w.applicant.org, "[\"applicant\"]", "Rotating Person");
	/* new with old, then the old revoked: the new one lives */
	json_t *t1 = token_for(temp.user, temp.token);
	json_t *old = testsrv_api_ok(&w.srv, "GET", "/v1/me", temp.token, NULL, 200);
	json_t *rv = token_revoke(jsonx_str(json_object_get(old, "token"), "id"), jsonx_str(t1, "token"), false);
	ck_assert_uint_eq(json_array_size(json_object_get(rv, "also_revoked")), 0);
	json_decref(rv);
	json_decref(old);
	ck_assert_int_eq(me_status(temp.token), 401);
	ck_assert_int_eq(me_status(jsonx_str(t1, "token")), 200);
	/* and again, revoking the old with the old */
	json_t *t2 = token_for(temp.user, jsonx_str(t1, "token"));
	ck_assert_str_eq(jsonx_str(t2, "created_with"), jsonx_str(t1, "id"));
	json_decref(token_revoke(jsonx_str(t1, "id"), jsonx_str(t1, "token"), false));
	ck_assert_int_eq(me_status(jsonx_str(t1, "token")), 401);
	ck_assert_int_eq(me_status(jsonx_str(t2, "token")), 200);
	json_decref(t1);
	json_decref(t2);
}
END_TEST

START_TEST(revoking_an_admins_token_revokes_only_what_it_made)
{
	char org[37];
	/* a token of the admin's, with which it makes another for itself and
	 * hands out an organisation administrator's first token */
	json_t *a1 = token_for(w.admin.user, w.admin.token);
	world_org(&w, "manufacturer", "Lineage Devices", org);
	char admin_user[37];
	snprintf(admin_user, sizeof admin_user, "%s", world_org_admin(&w, org)->user);
	char path[128];
	snprintf(path, sizeof path, "/v1/users/%s/tokens", admin_user);
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	json_decref(token_revoke(jsonx_str(json_array_get(json_object_get(list, "items"), 0), "id"),
			   w.admin.token, false));
	json_decref(list);
	json_t *u1 = token_for(admin_user, jsonx_str(a1, "token"));
	ck_assert_str_eq(jsonx_str(u1, "created_with"), jsonx_str(a1, "id"));
	ck_assert_str_eq(jsonx_str(u1, "created_by"), w.admin.user);
	json_t *a2 = token_for(w.admin.user, jsonx_str(a1, "token"));

	/* a plain revoke: that token alone */
	json_t *rv = token_revoke(jsonx_str(a1, "id"), w.admin.token, false);
	ck_assert_uint_eq(json_array_size(json_object_get(rv, "also_revoked")), 0);
	json_decref(rv);
	ck_assert_int_eq(me_status(jsonx_str(a1, "token")), 401);
	ck_assert_int_eq(me_status(jsonx_str(u1, "token")), 200);
	ck_assert_int_eq(me_status(jsonx_str(a2, "token")), 200);

	/* as compromised: with what it made for the admin, at any depth; what it
	 * handed to others stays theirs, listed for review */
	json_t *a3 = token_for(w.admin.user, jsonx_str(a2, "token"));
	json_t *a4 = token_for(w.admin.user, jsonx_str(a3, "token"));
	char org2[37], admin2[37];
	world_org(&w, "manufacturer", "Lineage Devices Two", org2);
	snprintf(admin2, sizeof admin2, "%s", world_org_admin(&w, org2)->user);
	snprintf(path, sizeof path, "/v1/users/%s/tokens", admin2);
	list = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	json_decref(token_revoke(jsonx_str(json_array_get(json_object_get(list, "items"), 0), "id"),
			   w.admin.token, false));
	json_decref(list);
	json_t *u2 = token_for(admin2, jsonx_str(a3, "token"));
	rv = token_revoke(jsonx_str(a2, "id"), w.admin.token, true);
	ck_assert(json_is_true(json_object_get(rv, "compromised")));
	ck_assert_uint_eq(json_array_size(json_object_get(rv, "also_revoked")), 2);
	ck_assert_uint_eq(json_array_size(json_object_get(rv, "handed_out")), 1);
	ck_assert_str_eq(json_string_value(json_array_get(json_object_get(rv, "handed_out"), 0)),
			 jsonx_str(u2, "id"));
	json_decref(rv);
	ck_assert_int_eq(me_status(jsonx_str(a2, "token")), 401);
	ck_assert_int_eq(me_status(jsonx_str(a3, "token")), 401);
	ck_assert_int_eq(me_status(jsonx_str(a4, "token")), 401);
	ck_assert_int_eq(me_status(jsonx_str(u2, "token")), 200);
	ck_assert_int_eq(me_status(jsonx_str(u1, "token")), 200);
	ck_assert_int_eq(me_status(w.admin.token), 200);
	/* the audit says which */
	json_t *audit = testsrv_api_ok(&w.srv, "GET", "/v1/audit?action=token.revoke&limit=1000",
				       w.admin.token, NULL, 200);
	size_t n = json_array_size(json_object_get(audit, "items"));
	bool seen = false;
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(json_object_get(audit, "items"), i);
		if (strcmp(jsonx_str(json_object_get(item, "object"), "id"), jsonx_str(a2, "id")) == 0)
			seen = json_is_true(json_object_get(json_object_get(item, "details"), "compromised"));
	}
	json_decref(audit);
	ck_assert_msg(seen, "no token.revoke record with compromised: true");
	json_decref(a1);
	json_decref(a2);
	json_decref(a3);
	json_decref(a4);
	json_decref(u1);
	json_decref(u2);
}
END_TEST

/* conformctl demo does as a real scheme does: the operator makes each demo
 * organisation with its administrator, who makes its people. */
START_TEST(conformctl_demo_staffs_through_administrators)
{
	struct proc_result r;
	char *public_url = cf_asprintf("CONFORM_PUBLIC_URL=%s", w.srv.base);
	char *data_dir = cf_asprintf("CONFORM_DATA_DIR=%s", w.keys_dir);
	const char *env[] = { w.signer.env, public_url, data_dir, NULL };
	const char *args[] = { "demo", NULL };
	testsrv_ctl(&r, &w.db, args, env);
	ck_assert_msg(r.status == 0, "demo: %s %s", r.out, r.err);
	ck_assert_ptr_nonnull(strstr(r.out, "/verify/"));
	proc_result_free(&r);
	free(public_url);
	free(data_dir);
	json_t *page = testsrv_api_ok(&w.srv, "GET", "/v1/audit?action=user.create&limit=1000",
				      w.admin.token, NULL, 200);
	size_t i;
	json_t *it;
	int staff_by_admins = 0;
	json_array_foreach(json_object_get(page, "items"), i, it) {
		const char *kind = jsonx_str(json_object_get(it, "actor"), "kind");
		const char *role = json_string_value(json_array_get(json_object_get(json_object_get(it, "details"), "roles"), 0));
		if (strcmp(kind, "cli") == 0)
			/* the operator made the scheme owner's admin and first administrators only */
			ck_assert_msg(strcmp(role, "admin") == 0 || strcmp(role, "org_admin") == 0,
				      "conformctl made a person with role %s", role);
		else if (strcmp(role, "certifier") == 0 || strcmp(role, "assessor") == 0)
			staff_by_admins++;
	}
	json_decref(page);
	ck_assert_int_ge(staff_by_admins, 2);
}
END_TEST

START_TEST(tokens_come_from_their_owner)
{
	char path[128];
	long status;
	/* an administrator handed out the applicant's first token: the next ones
	 * are theirs to make */
	snprintf(path, sizeof path, "/v1/users/%s/tokens", w.applicant.user);
	json_t *r = testsrv_api(&w.srv, "POST", path, w.maker_admin.token, NULL, &status);
	ck_assert_int_eq(status, 409);
	ck_assert(strstr(jsonx_str(r, "detail"), "they make further tokens themselves"));
	json_decref(r);

	/* a replacement from their administrator once none is active */
	struct actor temp;
	world_person(&w, &temp, w.applicant2.org, "[\"applicant\"]", "Lost Token");
	snprintf(path, sizeof path, "/v1/users/%s/tokens", temp.user);
	json_t *list = testsrv_api_ok(&w.srv, "GET", path, w.maker2_admin.token, NULL, 200);
	size_t i;
	json_t *it;
	json_array_foreach(json_object_get(list, "items"), i, it) {
		ck_assert_str_eq(jsonx_str(it, "created_by"), w.maker2_admin.user);
		json_decref(token_revoke(jsonx_str(it, "id"), w.maker2_admin.token, false));
	}
	json_decref(list);
	json_t *fresh = testsrv_api_ok(&w.srv, "POST", path, w.maker2_admin.token, NULL, 201);
	json_array_append(w.secrets, json_object_get(fresh, "token"));
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/me", jsonx_str(fresh, "token"), NULL, 200));
	json_decref(fresh);
}
END_TEST

START_TEST(cli_tokens_and_a_second_bootstrap)
{
	struct proc_result r;
	/* the operator acts as the scheme owner: no token for a body's staff */
	json_t *me = testsrv_api_ok(&w.srv, "GET", "/v1/me", w.certifier.token, NULL, 200);
	char email[128];
	snprintf(email, sizeof email, "%s", jsonx_str(json_object_get(me, "user"), "email"));
	json_decref(me);
	const char *staff[] = { "token", "create", "--user", email, "--name", "cli", NULL };
	testsrv_ctl(&r, &w.db, staff, NULL);
	ck_assert_int_ne(r.status, 0);
	ck_assert_msg(strstr(r.err, "administrator hands out theirs"), "%s", r.err);
	ck_assert_ptr_null(strstr(r.out, "cfm_"));
	proc_result_free(&r);
	/* its own people's, yes: the way back to a lost admin token */
	snprintf(email, sizeof email, "ada@example.org");
	const char *create[] = { "token", "create", "--user", email, "--name", "cli", "--days", "7", NULL };
	testsrv_ctl(&r, &w.db, create, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	const char *tok = strstr(r.out, "cfm_");
	ck_assert_ptr_nonnull(tok);
	char token[48];
	memcpy(token, tok, 47);
	token[47] = '\0';
	json_array_append_new(w.secrets, json_string(token));
	proc_result_free(&r);
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/me", token, NULL, 200));

	const char *list[] = { "token", "list", "--user", email, NULL };
	testsrv_ctl(&r, &w.db, list, NULL);
	ck_assert_int_eq(r.status, 0);
	ck_assert_ptr_null(strstr(r.out, token));
	char id[37];
	const char *line = strstr(r.out, "active");
	ck_assert_ptr_nonnull(line);
	proc_result_free(&r);
	/* find the id of the token just made: the newest of the user's */
	json_t *tl = testsrv_api_ok(&w.srv, "GET", "/v1/me", token, NULL, 200);
	snprintf(id, sizeof id, "%s", jsonx_str(json_object_get(tl, "token"), "id"));
	json_decref(tl);
	const char *revoke[] = { "token", "revoke", id, NULL };
	testsrv_ctl(&r, &w.db, revoke, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	proc_result_free(&r);
	long status;
	json_decref(testsrv_api(&w.srv, "GET", "/v1/me", token, NULL, &status));
	ck_assert_int_eq(status, 401);

	const char *boot[] = { "bootstrap", "--org-name", "Again", "--country", "GB", "--email",
			       "x@example.org", "--admin-name", "Eve", "--admin-email", "eve@example.org",
			       NULL };
	testsrv_ctl(&r, &w.db, boot, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert(strstr(r.err, "bootstrapped already"));
	ck_assert_ptr_null(strstr(r.out, "cfm_"));
	proc_result_free(&r);
	const char *incomplete[] = { "bootstrap", "--org-name", "Again", NULL };
	testsrv_ctl(&r, &w.db, incomplete, NULL);
	ck_assert_int_eq(r.status, 2);
	proc_result_free(&r);
}
END_TEST

/* A covers query through the C API, as the application role. */
static bool covers_at(const char *at)
{
	struct db *db = NULL;
	struct cf_error err;
	ck_assert_int_eq(db_connect(w.db.app_url, &db, &err), 0);
	bool yes = false;
	ck_assert_int_eq(accreditation_covers(db, w.certifier.org, "dcms-cop", "2018", 0, at, &yes, &err), 0);
	db_close(db);
	return yes;
}

/* at + seconds, in RFC 3339 (at is "YYYY-MM-DDTHH:MM:SS.ffffffZ"). */
static void shift(const char *at, int seconds, char *out, size_t size)
{
	struct tm tm = { 0 };
	const char *rest = strptime(at, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_ptr_nonnull(rest);
	time_t t = timegm(&tm) + seconds;
	gmtime_r(&t, &tm);
	char base[32];
	strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s%s", base, rest); /* the fraction and the Z */
}

static const char *event_time(const json_t *acc, const char *action)
{
	size_t i;
	json_t *e;
	const char *found = NULL;
	json_array_foreach(json_object_get(acc, "history"), i, e)
		if (strcmp(jsonx_str(e, "action"), action) == 0)
			found = jsonx_str(e, "effective_at");
	return found;
}

START_TEST(suspension_stops_cover_from_its_time_and_reinstatement_restores_it)
{
	char path[128];
	ck_assert(covers_at(NULL));
	/* a class above the accreditation's maximum, or another scheme: never */
	struct db *db = NULL;
	struct cf_error err;
	bool yes = true;
	ck_assert_int_eq(db_connect(w.db.app_url, &db, &err), 0);
	ck_assert_int_eq(accreditation_covers(db, w.certifier.org, "dcms-cop", "2018", 1, NULL, &yes, &err), 0);
	ck_assert(!yes);
	ck_assert_int_eq(accreditation_covers(db, w.certifier.org, "uk-psti", "2023", 0, NULL, &yes, &err), 0);
	ck_assert(!yes);
	ck_assert_int_eq(accreditation_covers(db, w.applicant.org, "dcms-cop", "2018", 0, NULL, &yes, &err), 0);
	ck_assert(!yes);
	db_close(db);

	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	json_t *b = body_of("{\"reason\":\"surveillance audit found nonconformities\"}");
	json_t *acc = testsrv_api_ok(&w.srv, "POST", path, w.accreditor.token, b, 200);
	json_decref(b);
	ck_assert_str_eq(jsonx_str(acc, "status"), "suspended");
	char t[48], before[48], after[48];
	snprintf(t, sizeof t, "%s", event_time(acc, "suspended"));
	json_decref(acc);
	shift(t, -1, before, sizeof before);
	shift(t, 1, after, sizeof after);
	ck_assert_msg(covers_at(before), "not covered just before the suspension at %s", t);
	ck_assert(!covers_at(t));
	ck_assert(!covers_at(after));
	ck_assert(!covers_at(NULL));

	/* the public directory tells it */
	snprintf(path, sizeof path, "/v1/bodies/%s", w.certifier.org);
	json_t *body = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	size_t i;
	json_t *a;
	bool seen = false;
	json_array_foreach(json_object_get(body, "accreditations"), i, a)
		if (strcmp(jsonx_str(a, "id"), w.accreditation_dcms) == 0) {
			ck_assert_str_eq(jsonx_str(a, "status"), "suspended");
			seen = true;
		}
	ck_assert(seen);
	json_decref(body);

	/* suspending again is not a transition */
	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	b = body_of("{\"reason\":\"again\"}");
	long status;
	json_t *r = testsrv_api(&w.srv, "POST", path, w.accreditor.token, b, &status);
	ck_assert_int_eq(status, 409);
	ck_assert_str_eq(jsonx_str(r, "state"), "suspended");
	json_decref(r);
	json_decref(b);

	sleep(1); /* so that the reinstatement has its own second */
	snprintf(path, sizeof path, "/v1/accreditations/%s/reinstate", w.accreditation_dcms);
	b = body_of("{\"reason\":\"corrective actions verified\"}");
	acc = testsrv_api_ok(&w.srv, "POST", path, w.accreditor.token, b, 200);
	json_decref(b);
	ck_assert_str_eq(jsonx_str(acc, "status"), "active");
	char t2[48], after2[48];
	snprintf(t2, sizeof t2, "%s", event_time(acc, "reinstated"));
	shift(t2, 1, after2, sizeof after2);
	ck_assert(covers_at(t2));
	ck_assert(covers_at(after2));
	ck_assert(covers_at(NULL));
	ck_assert_msg(!covers_at(after), "the suspended second %s is still suspended in history", after);
	ck_assert(covers_at(before));
	/* history: granted, suspended, reinstated, with reasons */
	json_t *h = json_object_get(acc, "history");
	ck_assert_uint_eq(json_array_size(h), 3);
	ck_assert_str_eq(jsonx_str(json_array_get(h, 1), "action"), "suspended");
	ck_assert_str_eq(jsonx_str(json_array_get(h, 1), "reason"), "surveillance audit found nonconformities");
	ck_assert_str_eq(jsonx_str(json_array_get(h, 2), "action"), "reinstated");
	json_decref(acc);

	/* a change dated in the past is refused: history is not rewritten */
	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	b = body_of("{\"reason\":\"backdated\",\"effective_at\":\"2020-01-01T00:00:00Z\"}");
	r = testsrv_api(&w.srv, "POST", path, w.accreditor.token, b, &status);
	ck_assert_int_eq(status, 400);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/effective_at");
	json_decref(r);
	json_decref(b);
}
END_TEST

START_TEST(withdrawal_is_final)
{
	char id[37], path[128];
	world_accredit(&w, w.certifier.org, "uk-psti", 0, id);
	snprintf(path, sizeof path, "/v1/accreditations/%s/withdraw", id);
	json_t *b = body_of("{\"reason\":\"body ceased trading\"}");
	json_t *acc = testsrv_api_ok(&w.srv, "POST", path, w.accreditor.token, b, 200);
	ck_assert_str_eq(jsonx_str(acc, "status"), "withdrawn");
	json_decref(acc);
	snprintf(path, sizeof path, "/v1/accreditations/%s/reinstate", id);
	long status;
	json_decref(testsrv_api(&w.srv, "POST", path, w.accreditor.token, b, &status));
	ck_assert_int_eq(status, 409);
	json_decref(b);
	/* the grant's own checks */
	b = body_of("{\"body_id\":\"00000000-0000-4000-8000-000000000000\",\"scheme_id\":\"dcms-cop\","
		    "\"max_class\":0,\"reference\":\"X-1\",\"valid_from\":\"2026-01-01\","
		    "\"valid_until\":\"2027-01-01\"}");
	json_t *r = testsrv_api(&w.srv, "POST", "/v1/accreditations", w.accreditor.token, b, &status);
	ck_assert_int_eq(status, 422);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/body_id");
	json_decref(r);
	json_decref(b);
	char text[320];
	snprintf(text, sizeof text,
		 "{\"body_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"max_class\":3,\"reference\":\"X-2\","
		 "\"valid_from\":\"2026-01-01\",\"valid_until\":\"2027-01-01\"}", w.certifier.org);
	b = body_of(text);
	r = testsrv_api(&w.srv, "POST", "/v1/accreditations", w.accreditor.token, b, &status);
	ck_assert_int_eq(status, 422);
	ck_assert_str_eq(jsonx_str(r, "pointer"), "/max_class");
	json_decref(r);
	json_decref(b);
	snprintf(text, sizeof text,
		 "{\"body_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"max_class\":0,\"reference\":\"X-3\","
		 "\"valid_from\":\"2026-01-01\",\"valid_until\":\"2032-01-01\"}", w.certifier.org);
	b = body_of(text);
	r = testsrv_api(&w.srv, "POST", "/v1/accreditations", w.accreditor.token, b, &status);
	ck_assert_int_eq(status, 400);
	ck_assert(strstr(jsonx_str(r, "detail"), "five years"));
	json_decref(r);
	json_decref(b);
}
END_TEST

/* The dates rule (docs/architecture.md, "Dates and periods"): valid_until is
 * the first instant no longer covered, and "at most five years" is
 * valid_until <= valid_from + 5 years: exactly five is granted, a second (or
 * the day the old check let through) more is not. A date is midnight UTC. */
START_TEST(an_accreditation_of_exactly_five_years_and_not_a_second_more)
{
	const char *untils[] = { "2031-01-01", "2031-01-01T00:00:00Z", "2031-01-01T00:00:01Z", "2031-01-02" };
	const long want[] = { 201, 201, 400, 400 };
	for (int i = 0; i < 4; i++) {
		char text[320];
		snprintf(text, sizeof text,
			 "{\"body_id\":\"%s\",\"scheme_id\":\"dcms-cop\",\"max_class\":0,\"reference\":\"FY-%d\","
			 "\"valid_from\":\"2026-01-01\",\"valid_until\":\"%s\"}", w.certifier.org, i, untils[i]);
		json_t *b = body_of(text);
		long status;
		json_t *r = testsrv_api(&w.srv, "POST", "/v1/accreditations", w.accreditor.token, b, &status);
		ck_assert_msg(status == want[i], "valid_until %s: %ld, expected %ld", untils[i], status, want[i]);
		if (status == 201)
			ck_assert_str_eq(jsonx_str(r, "valid_until"), "2031-01-01T00:00:00Z");
		else
			ck_assert(strstr(jsonx_str(r, "detail"), "five years"));
		json_decref(r);
		json_decref(b);
	}
}
END_TEST

START_TEST(audit_trail_lists_and_verifies_and_names_a_tampered_record)
{
	json_t *page = testsrv_api_ok(&w.srv, "GET", "/v1/audit?action=user.create&limit=3",
				      w.admin.token, NULL, 200);
	ck_assert_uint_eq(json_array_size(json_object_get(page, "items")), 3);
	/* the first admin came from conformctl bootstrap, the others through the API */
	json_t *first = json_array_get(json_object_get(page, "items"), 0);
	ck_assert_str_eq(jsonx_str(json_object_get(first, "actor"), "kind"), "cli");
	json_t *second = json_array_get(json_object_get(page, "items"), 1);
	ck_assert_str_eq(jsonx_str(json_object_get(second, "actor"), "kind"), "user");
	ck_assert_str_eq(jsonx_str(json_object_get(second, "actor"), "id"), w.admin.user);
	ck_assert(json_is_integer(json_object_get(page, "next")));
	char path[128];
	snprintf(path, sizeof path, "/v1/audit?action=user.create&limit=3&after=%lld",
		 (long long)json_integer_value(json_object_get(page, "next")));
	json_t *page2 = testsrv_api_ok(&w.srv, "GET", path, w.admin.token, NULL, 200);
	ck_assert_int_gt(json_integer_value(json_object_get(json_array_get(json_object_get(page2, "items"), 0), "seq")),
			 json_integer_value(json_object_get(page, "next")) - 1);
	json_decref(page2);
	json_decref(page);
	json_t *pfx = testsrv_api_ok(&w.srv, "GET", "/v1/audit?action=accreditation.&limit=1000",
				     w.admin.token, NULL, 200);
	ck_assert_uint_ge(json_array_size(json_object_get(pfx, "items")), 2);
	json_decref(pfx);
	long status;
	json_decref(testsrv_api(&w.srv, "GET", "/v1/audit?since=yesterday", w.admin.token, NULL, &status));
	ck_assert_int_eq(status, 400);

	struct proc_result r;
	const char *verify[] = { "audit", "verify", NULL };
	testsrv_ctl(&r, &w.db, verify, NULL);
	ck_assert_msg(r.status == 0, "%s", r.err);
	ck_assert(strstr(r.out, "intact"));
	proc_result_free(&r);

	/* the runtime role may not touch the trail */
	PGconn *c = PQconnectdb(w.db.app_url);
	PGresult *res = PQexec(c, "UPDATE audit_log SET actor_id = 'mallory' WHERE seq = 7");
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	res = PQexec(c, "DELETE FROM audit_log WHERE seq = 7");
	ck_assert_int_eq(PQresultStatus(res), PGRES_FATAL_ERROR);
	PQclear(res);
	PQfinish(c);

	/* the superuser can; verify names the record */
	PQclear(testdb_super_exec(&w.db, "UPDATE audit_log SET details = '{\"name\": \"forged\"}' WHERE seq = 7"));
	testsrv_ctl(&r, &w.db, verify, NULL);
	ck_assert_int_eq(r.status, 1);
	ck_assert_msg(strstr(r.err, "broken at record 7:"), "%s", r.err);
	proc_result_free(&r);
}
END_TEST

START_TEST(no_token_in_clear_in_logs_or_database)
{
	/* exercise the tokens once more, good and bad (from an address of their
	 * own: the bad ones count towards the throttle) */
	size_t i;
	json_t *t;
	http_set_source("127.0.0.6");
	json_array_foreach(w.secrets, i, t) {
		long status;
		json_decref(testsrv_api(&w.srv, "GET", "/v1/me", json_string_value(t), NULL, &status));
	}
	http_set_source(NULL);
	usleep(300000); /* access lines are written within 100 ms */
	char *log = tsupport_read_file(w.srv.log_path, NULL);
	char *dump_path = testsrv_artifact_path("parties-pg_dump.sql");
	char *cmd = cf_asprintf("pg_dump -h '%s' -U postgres '%s' > '%s'", getenv("CONFORM_TEST_PGHOST"),
				w.db.name, dump_path);
	ck_assert_int_eq(system(cmd), 0);
	char *dump = tsupport_read_file(dump_path, NULL);
	ck_assert_uint_gt(json_array_size(w.secrets), 8);
	json_array_foreach(w.secrets, i, t) {
		const char *tok = json_string_value(t);
		ck_assert_msg(strstr(log, tok) == NULL, "a token is in clear in %s", w.srv.log_path);
		ck_assert_msg(strstr(dump, tok) == NULL, "a token is in clear in the database dump");
		/* nor its random part alone */
		ck_assert(strstr(dump, tok + 4) == NULL);
		ck_assert(strstr(log, tok + 4) == NULL);
	}
	ck_assert(strstr(dump, "api_token")); /* the dump is real */
	ck_assert(strstr(log, "access method=GET path=/v1/me status=200"));
	free(cmd);
	free(dump);
	free(dump_path);
	free(log);
}
END_TEST

START_TEST(failed_authentications_are_throttled_per_address)
{
	/* 50 failures from 127.0.0.3 within a minute: beyond the limit (10)
	 * they draw 429 */
	const char *bad = "cfm_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	http_set_source("127.0.0.3");
	int throttled = 0;
	for (int i = 0; i < 50; i++) {
		long status;
		json_decref(testsrv_api(&w.srv, "GET", "/v1/me", bad, NULL, &status));
		ck_assert(status == 401 || status == 429);
		throttled += status == 429;
	}
	ck_assert_int_ge(throttled, 40);
	/* valid tokens from that very address still pass: only failures are
	 * refused (a NAT or a proxy shares the address with good clients) */
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/me", w.admin.token, NULL, 200));
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/me", w.applicant.token, NULL, 200));
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/organisations", w.admin.token, NULL, 200));
	/* public routes, with no token or a valid one */
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/schemes", NULL, NULL, 200));
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/schemes", w.applicant.token, NULL, 200));
	/* and the 51st bad token is still refused, with when to come back */
	struct http_resp h;
	char auth[96], retry[32];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", bad);
	const char *hdr[] = { auth, NULL };
	testsrv_req(&w.srv, &h, "GET", "/v1/me", hdr, NULL);
	ck_assert_int_eq(h.status, 429);
	ck_assert_ptr_nonnull(http_header(&h, "Retry-After", retry, sizeof retry));
	ck_assert_int_gt(atoi(retry), 0);
	ck_assert_int_le(atoi(retry), 60);
	ck_assert_ptr_nonnull(strstr(h.body, "too many failed authentications"));
	http_resp_free(&h);
	/* so is a bad token to a public route */
	long status;
	json_decref(testsrv_api(&w.srv, "GET", "/v1/schemes", bad, NULL, &status));
	ck_assert_int_eq(status, 429);
	/* another address is not affected */
	http_set_source("127.0.0.4");
	json_decref(testsrv_api(&w.srv, "GET", "/v1/me", bad, NULL, &status));
	ck_assert_int_eq(status, 401);
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/me", w.applicant.token, NULL, 200));
	http_set_source(NULL);
	char *log = tsupport_read_file(w.srv.log_path, NULL);
	ck_assert(strstr(log, "authentication failed from 127.0.0.3"));
	ck_assert(strstr(log, "(throttled)"));
	free(log);
}
END_TEST

/* GET /v1/me with token, as forwarded for xff (NULL: no header); the status. */
static long me_via(const char *token, const char *xff)
{
	char auth[96], fwd[160];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
	snprintf(fwd, sizeof fwd, "X-Forwarded-For: %s", xff ? xff : "");
	const char *h[] = { auth, xff ? fwd : NULL, NULL };
	struct http_resp r;
	testsrv_req(&w.srv, &r, "GET", "/v1/me", h, NULL);
	long status = r.status;
	http_resp_free(&r);
	return status;
}

START_TEST(behind_a_trusted_proxy_each_forwarded_client_is_throttled)
{
	const char *bad = "cfm_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB";
	http_set_source("127.0.0.7");
	/* a client behind the proxy (and whatever it wrote into the header itself) */
	int throttled = 0;
	for (int i = 0; i < 14; i++)
		throttled += me_via(bad, "198.51.100.1, 203.0.113.9") == 429;
	ck_assert_int_ge(throttled, 4);
	ck_assert_int_eq(me_via(bad, "203.0.113.9"), 429);
	ck_assert_int_eq(me_via(w.applicant.token, "203.0.113.9"), 200); /* never a valid token */
	/* the proxy's other clients, and the proxy itself, are not throttled */
	ck_assert_int_eq(me_via(bad, "203.0.113.10"), 401);
	ck_assert_int_eq(me_via(w.applicant.token, "203.0.113.10"), 200);
	ck_assert_int_eq(me_via(w.applicant.token, "198.51.100.1"), 200);
	ck_assert_int_eq(me_via(w.applicant.token, NULL), 200);

	/* IPv6: one /64 is one subscriber, however it rotates its addresses */
	for (int i = 0; i < 14; i++) {
		char a[64];
		snprintf(a, sizeof a, "2001:db8:1:2::%x", i + 1);
		me_via(bad, a);
	}
	ck_assert_int_eq(me_via(bad, "2001:db8:1:2:ffff::9"), 429);
	ck_assert_int_eq(me_via(w.applicant.token, "2001:db8:1:2:ffff::9"), 200);
	ck_assert_int_eq(me_via(bad, "2001:db8:1:3::1"), 401);

	/* a peer that is not a trusted proxy is not believed */
	http_set_source("127.0.0.8");
	ck_assert_int_eq(me_via(bad, "192.0.2.77"), 401);
	http_set_source(NULL);
	usleep(200000);
	char *log = tsupport_read_file(w.srv.log_path, NULL);
	ck_assert(strstr(log, "authentication failed from 203.0.113.9:"));
	ck_assert(strstr(log, "authentication failed from 127.0.0.8:"));
	ck_assert(!strstr(log, "authentication failed from 192.0.2.77"));
	free(log);
}
END_TEST

/* SIGTERM while a request is half received: conformd stops accepting, lets
 * the request finish, answers it, and exits 0. */
START_TEST(sigterm_lets_in_flight_requests_finish)
{
	struct testsrv other;
	testsrv_start(&other, &w.db, NULL);
	const char *body = "{\"kind\":\"assessment_body\",\"name\":\"Late Lab\",\"country\":\"FR\","
			   "\"contact\":{\"email\":\"late@example.org\"}}";
	size_t len = strlen(body);
	char head[512];
	int hl = snprintf(head, sizeof head,
			  "POST /v1/organisations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
			  "Content-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
			  w.admin.token, len);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(other.port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
	ck_assert_int_eq(send(fd, head, (size_t)hl, 0), hl);
	ck_assert_int_eq(send(fd, body, 10, 0), 10);
	usleep(200000);
	ck_assert_int_eq(kill(other.pid, SIGTERM), 0);
	usleep(300000);
	/* still running: the request is in flight */
	int status = 0;
	ck_assert_int_eq(waitpid(other.pid, &status, WNOHANG), 0);
	/* new connections are refused meanwhile */
	int fd2 = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(connect(fd2, (struct sockaddr *)&a, sizeof a), 0);
	close(fd2);
	ck_assert_int_eq(send(fd, body + 10, len - 10, 0), (ssize_t)(len - 10));
	char reply[4096];
	size_t got = 0;
	ssize_t r;
	while ((r = recv(fd, reply + got, sizeof reply - 1 - got, 0)) > 0)
		got += (size_t)r;
	reply[got] = '\0';
	close(fd);
	ck_assert_msg(strncmp(reply, "HTTP/1.1 201", 12) == 0, "reply: %.200s", reply);
	ck_assert_int_eq(waitpid(other.pid, &status, 0), other.pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	other.pid = 0;
	testsrv_stop(&other);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("parties");
	TCase *tc = tcase_create("parties");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, organisations_are_validated);
	tcase_add_test(tc, people_hold_roles_that_fit_their_organisation);
	tcase_add_test(tc, organisations_and_people_come_in_pages);
	tcase_add_test(tc, tokens_live_expire_and_die);
	tcase_add_test(tc, tokens_come_from_their_owner);
	tcase_add_test(tc, the_scheme_owner_never_staffs_a_body);
	tcase_add_test(tc, only_an_admin_makes_or_changes_an_admin);
	tcase_add_test(tc, a_person_rotates_their_token);
	tcase_add_test(tc, revoking_an_admins_token_revokes_only_what_it_made);
	tcase_add_test(tc, conformctl_demo_staffs_through_administrators);
	tcase_add_test(tc, cli_tokens_and_a_second_bootstrap);
	tcase_add_test(tc, suspension_stops_cover_from_its_time_and_reinstatement_restores_it);
	tcase_add_test(tc, withdrawal_is_final);
	tcase_add_test(tc, an_accreditation_of_exactly_five_years_and_not_a_second_more);
	tcase_add_test(tc, no_token_in_clear_in_logs_or_database);
	tcase_add_test(tc, failed_authentications_are_throttled_per_address);
	tcase_add_test(tc, behind_a_trusted_proxy_each_forwarded_client_is_throttled);
	tcase_add_test(tc, sigterm_lets_in_flight_requests_finish);
	tcase_add_test(tc, audit_trail_lists_and_verifies_and_names_a_tampered_record);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
