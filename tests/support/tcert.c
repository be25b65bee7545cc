/*
 * tcert: a certificate as verifiers see it (see tcert.h).
 */
#include "tcert.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsonx.h"
#include "jws.h"
#include "mem.h"
#include "proc.h"
#include "statuslist.h"

json_t *tcert_get(const struct testsrv *s, const char *serial)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s", serial);
	return testsrv_api_ok(s, "GET", path, NULL, NULL, 200);
}

char *tcert_jws(const struct testsrv *s, const char *serial)
{
	char path[96];
	snprintf(path, sizeof path, "/v1/certificates/%s/jws", serial);
	return testsrv_get_text(s, path, 200);
}

json_t *tcert_jws_payload(const char *compact, size_t max_len, json_t **header)
{
	struct jws j = { 0 };
	ck_assert_int_eq(jws_parse(compact, max_len, &j, NULL), 0);
	json_t *payload = json_loadb((const char *)j.payload, j.payload_len, 0, NULL);
	ck_assert_ptr_nonnull(payload);
	if (header)
		*header = json_incref(j.header);
	jws_clear(&j);
	return payload;
}

json_t *tcert_payload(const struct testsrv *s, const char *serial)
{
	char *jws = tcert_jws(s, serial);
	json_t *payload = tcert_jws_payload(jws, 1 << 16, NULL);
	free(jws);
	return payload;
}

json_t *tcert_verify_jws(const struct testsrv *s, const char *jws)
{
	json_t *b = json_pack("{s:s}", "jws", jws);
	json_t *r = testsrv_api_ok(s, "POST", "/v1/verify", NULL, b, 200);
	json_decref(b);
	return r;
}

json_t *tcert_verify(const struct testsrv *s, const char *serial)
{
	char *jws = tcert_jws(s, serial);
	json_t *v = tcert_verify_jws(s, jws);
	free(jws);
	return v;
}

int tcert_ctl_verify(struct world *w, const char *serial, const char *jwks, char **out)
{
	char name[96];
	/* the pid keeps suites that run at once (and number alike) apart */
	snprintf(name, sizeof name, "cert-verify-%d-%s.jws", (int)getpid(), serial);
	char *jws = tcert_jws(&w->srv, serial);
	char *file = testsrv_write_artifact(name, jws);
	const char *args[] = { "cert", "verify", file, "--jwks", jwks, NULL };
	struct proc_result r;
	world_ctl(w, &r, args);
	int status = r.status;
	*out = cf_asprintf("%s%s", r.out, r.err);
	proc_result_free(&r);
	free(file);
	free(jws);
	return status;
}

void tcert_demo(struct world *w, const char *public_url, const char *page, char serial[40])
{
	if (!page)
		page = "/verify/";
	char *url = public_url ? cf_asprintf("CONFORM_PUBLIC_URL=%s", public_url) : NULL;
	char *data_dir = cf_asprintf("CONFORM_DATA_DIR=%s", w->keys_dir);
	const char *env[] = { w->signer.env, data_dir, url, NULL };
	const char *args[] = { "demo", NULL };
	struct proc_result r;
	testsrv_ctl(&r, &w->db, args, env);
	ck_assert_msg(r.status == 0, "demo: %s %s", r.out, r.err);
	const char *at = strstr(r.out, page);
	ck_assert_msg(at != NULL, "the demo's page is not under %s: %s", page, r.out);
	at += strlen(page);
	snprintf(serial, 40, "%.*s", (int)strcspn(at, "\n"), at);
	proc_result_free(&r);
	free(data_dir);
	free(url);
}

json_t *tcert_status_list(const struct testsrv *s, const char *serial, const char *purpose,
			  unsigned *index, json_t **header)
{
	json_t *c = tcert_get(s, serial);
	json_t *entries = json_object_get(json_object_get(c, "credential"), "credentialStatus");
	char url[512] = "";
	size_t i;
	json_t *e;
	*index = 0;
	json_array_foreach(entries, i, e)
		if (strcmp(jsonx_str(e, "statusPurpose"), purpose) == 0) {
			*index = (unsigned)atoi(jsonx_str(e, "statusListIndex"));
			snprintf(url, sizeof url, "%s", jsonx_str(e, "statusListCredential"));
		}
	json_decref(c);
	ck_assert_msg(url[0], "%s has no %s status entry", serial, purpose);
	const char *p = strstr(url, "/v1/bodies/");
	ck_assert_ptr_nonnull(p);
	char *list = testsrv_get_text(s, p, 200);
	json_t *cred = tcert_jws_payload(list, 1 << 20, header);
	free(list);
	return cred;
}

bool tcert_list_bit(const json_t *list, unsigned index)
{
	unsigned char *bits = NULL;
	ck_assert_int_eq(statuslist_decode(jsonx_str(json_object_get(list, "credentialSubject"),
						     "encodedList"), &bits, NULL), 0);
	bool set = statuslist_get(bits, index);
	free(bits);
	return set;
}

bool tcert_listed(const struct testsrv *s, const char *serial, const char *purpose)
{
	unsigned index;
	json_t *list = tcert_status_list(s, serial, purpose, &index, NULL);
	bool set = tcert_list_bit(list, index);
	json_decref(list);
	return set;
}
