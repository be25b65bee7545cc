/*
 * The change feed and its webhooks (issue 14): a subscriber on loopback (a
 * real HTTP server in this process) receives every one of 500 status
 * changes across a kill -9 of conformd, once per delivery id (a repeat only
 * as a retry with the same id and body), each signature checked here with
 * OpenSSL's HMAC (not conform's code); the feed is signed by the log key and
 * its indexes are contiguous up to the checkpoint; SSRF targets are refused
 * with 422; a subscriber answering 500 is retried with growing waits; a
 * delivery is replayed through the API with its id; filters narrow.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jsonx.h"
#include "mem.h"
#include "tsupport.h"
#include "world.h"

#define CERTS 5
#define CHANGES 500
#define MAX_RECEIPTS 4000

static struct world w;
static char serials[CERTS][40];

/* ---- the subscriber ---- */

struct receipt {
	char path[32];
	char id[48];
	char ts[24];
	char sig[160];
	char *body;
	double at; /* monotonic seconds */
};

static struct {
	pthread_mutex_t lock;
	struct MHD_Daemon *d;
	unsigned short port;
	struct receipt r[MAX_RECEIPTS];
	int n;
	int fail_first; /* /fail answers 500 to the first fail_first receipts of an id */
} sub = { .lock = PTHREAD_MUTEX_INITIALIZER };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

struct upload {
	char *data;
	size_t len;
};

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *data, size_t *size, void **state)
{
	(void)cls;
	(void)version;
	(void)method;
	struct upload *u = *state;
	if (!u) {
		*state = cf_calloc(1, sizeof *u);
		return MHD_YES;
	}
	if (*size) {
		u->data = cf_realloc(u->data, u->len + *size + 1);
		memcpy(u->data + u->len, data, *size);
		u->len += *size;
		u->data[u->len] = '\0';
		*size = 0;
		return MHD_YES;
	}
	unsigned status = 200;
	const char *id = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-id");
	/* a receiver that takes its time: the kill finds POSTs in flight */
	if (strcmp(url, "/burst") == 0)
		usleep(10000);
	pthread_mutex_lock(&sub.lock);
	if (sub.n < MAX_RECEIPTS) {
		struct receipt *r = &sub.r[sub.n++];
		const char *ts = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-timestamp");
		const char *sig = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "webhook-signature");
		snprintf(r->path, sizeof r->path, "%s", url);
		snprintf(r->id, sizeof r->id, "%s", id ? id : "");
		snprintf(r->ts, sizeof r->ts, "%s", ts ? ts : "");
		snprintf(r->sig, sizeof r->sig, "%s", sig ? sig : "");
		r->body = cf_strdup(u->data ? u->data : "");
		r->at = now_s();
		if (strcmp(url, "/down") == 0)
			status = 503;
		if (strcmp(url, "/fail") == 0) {
			int seen = 0;
			for (int i = 0; i < sub.n; i++)
				seen += strcmp(sub.r[i].id, r->id) == 0;
			if (seen <= sub.fail_first)
				status = 500;
		}
	}
	pthread_mutex_unlock(&sub.lock);
	static const char reply[] = "ok";
	struct MHD_Response *resp =
		MHD_create_response_from_buffer(2, (void *)(uintptr_t)reply, MHD_RESPMEM_PERSISTENT);
	enum MHD_Result ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **state, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)c;
	(void)t;
	struct upload *u = *state;
	if (u) {
		free(u->data);
		free(u);
	}
	*state = NULL;
}

static void subscriber_start(void)
{
	for (int tries = 0; tries < 20 && !sub.d; tries++) {
		sub.port = testsrv_free_port();
		struct sockaddr_in a = { 0 };
		a.sin_family = AF_INET;
		a.sin_port = htons(sub.port);
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sub.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
					 sub.port, NULL, NULL, answer, NULL, MHD_OPTION_SOCK_ADDR, &a,
					 MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	}
	ck_assert_ptr_nonnull(sub.d);
}

/* How many receipts at path (all, or of id when not NULL). */
static int receipts(const char *path, const char *id)
{
	int n = 0;
	pthread_mutex_lock(&sub.lock);
	for (int i = 0; i < sub.n; i++)
		n += strcmp(sub.r[i].path, path) == 0 && (!id || strcmp(sub.r[i].id, id) == 0);
	pthread_mutex_unlock(&sub.lock);
	return n;
}

/* Standard Webhooks, checked with OpenSSL alone: base64 of
 * HMAC-SHA256(base64-decoded secret after "whsec_", "id.ts.body"). */
static bool signature_ok(const char *secret, const struct receipt *r)
{
	unsigned char key[64], mac[EVP_MAX_MD_SIZE];
	const char *b64 = secret + strlen("whsec_");
	int klen = EVP_DecodeBlock(key, (const unsigned char *)b64, (int)strlen(b64));
	if (klen < 0)
		return false;
	klen -= (int)(strlen(b64) - strcspn(b64, "=")); /* padding decodes as zeros */
	char *msg = cf_asprintf("%s.%s.%s", r->id, r->ts, r->body);
	unsigned int mlen = 0;
	HMAC(EVP_sha256(), key, klen, (unsigned char *)msg, strlen(msg), mac, &mlen);
	free(msg);
	char expect[128] = "v1,";
	EVP_EncodeBlock((unsigned char *)expect + 3, mac, (int)mlen);
	/* the header may hold several space-separated signatures */
	const char *s = r->sig;
	while (*s) {
		size_t n = strcspn(s, " ");
		if (n == strlen(expect) && strncmp(s, expect, n) == 0)
			return true;
		s += n;
		s += strspn(s, " ");
	}
	return false;
}

/* ---- the world ---- */

static void setup(void)
{
	/* loopback targets allowed; a failed delivery retried 1 s, 2 s, 4 s ... later */
	const char *env[] = { "CONFORM_WEBHOOK_ALLOW_PRIVATE=1", "CONFORM_WEBHOOK_RETRY_BASE=1", NULL };
	world_create(&w, "webhooks", env);
	subscriber_start();
	for (int i = 0; i < CERTS; i++)
		world_certificate(&w, serials[i]);
}

static void teardown(void)
{
	if (sub.d)
		MHD_stop_daemon(sub.d);
	for (int i = 0; i < sub.n; i++)
		free(sub.r[i].body);
	world_destroy(&w);
}

static char *webhooks_path(const char *org)
{
	return cf_asprintf("/v1/organisations/%s/webhooks", org);
}

/* A subscription of the manufacturer (its administrator's), to path on the
 * subscriber, with filter (stolen, may be NULL); its secret in secret. */
static void subscribe_as(const char *org, const char *token, const char *path, json_t *filter,
			 char id[37], char secret[80])
{
	char *wp = webhooks_path(org);
	char *url = cf_asprintf("http://127.0.0.1:%u%s", sub.port, path);
	json_t *body = json_pack("{s:s}", "url", url);
	if (filter)
		json_object_set_new(body, "filter", filter);
	json_t *h = testsrv_api_ok(&w.srv, "POST", wp, token, body, 201);
	snprintf(id, 37, "%s", jsonx_str(h, "id"));
	const char *s = jsonx_str(h, "secret");
	ck_assert_ptr_nonnull(s);
	ck_assert_msg(strncmp(s, "whsec_", 6) == 0, "secret %s", s);
	snprintf(secret, 80, "%s", s);
	json_decref(h);
	json_decref(body);
	free(url);
	free(wp);
	/* the secret is shown once */
	json_t *list = testsrv_api_ok(&w.srv, "GET", wp = webhooks_path(org), token, NULL, 200);
	char *text = json_dumps(list, 0);
	ck_assert_msg(!strstr(text, "whsec_"), "a secret is listed");
	free(text);
	json_decref(list);
	free(wp);
}

static void subscribe(const char *path, json_t *filter, char id[37], char secret[80])
{
	subscribe_as(w.applicant.org, w.maker_admin.token, path, filter, id, secret);
}

static void change(const char *serial, const char *action, long expect)
{
	char path[128];
	snprintf(path, sizeof path, "/v1/certificates/%s/%s", serial, action);
	long status = 0;
	json_t *body = json_pack("{s:s,s:s}", "reason_code", "nonconformity", "reason", "telnet is open");
	json_decref(testsrv_api(&w.srv, "POST", path, w.certifier.token, body, &status));
	json_decref(body);
	ck_assert_msg(status == expect, "%s %s: %ld", action, serial, status);
}

/* ---- the feed ---- */

static EVP_PKEY *log_public_key(void)
{
	char *vkey = testsrv_get_text(&w.srv, "/v1/log/vkey", 200);
	/* <origin>+<hex key id>+<base64>: the base64 may hold '+' itself */
	const char *b64 = strchr(strchr(vkey, '+') + 1, '+') + 1;
	unsigned char raw[64];
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)strcspn(b64, "\n"));
	ck_assert_int_ge(n, 33);
	ck_assert_int_eq(raw[0], 0x01);
	EVP_PKEY *k = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, raw + 1, 32);
	ck_assert_ptr_nonnull(k);
	free(vkey);
	return k;
}

static unsigned char *b64url_decode(const char *s, size_t n, size_t *out_len)
{
	char *t = cf_malloc(n + 4);
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		t[k++] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	while (k % 4)
		t[k++] = '=';
	unsigned char *out = cf_malloc(k);
	int len = EVP_DecodeBlock(out, (unsigned char *)t, (int)k);
	ck_assert_int_ge(len, 0);
	size_t pad = n % 4 ? 4 - n % 4 : 0;
	*out_len = (size_t)len - pad;
	free(t);
	return out;
}

/* GET path of the feed; checks its JWS with the log's key (OpenSSL alone)
 * and that its payload is the page; returns the page (new). */
static json_t *feed_get(const char *path, EVP_PKEY *key)
{
	json_t *page = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	const char *jws = jsonx_str(page, "jws");
	ck_assert_ptr_nonnull(jws);
	const char *dot1 = strchr(jws, '.'), *dot2 = strrchr(jws, '.');
	ck_assert_ptr_ne(dot1, dot2);
	size_t sig_len = 0, payload_len = 0;
	unsigned char *sig = b64url_decode(dot2 + 1, strlen(dot2 + 1), &sig_len);
	unsigned char *payload = b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), &payload_len);
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	ck_assert_int_eq(EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key), 1);
	ck_assert_msg(EVP_DigestVerify(ctx, sig, sig_len, (const unsigned char *)jws, (size_t)(dot2 - jws)) == 1,
		      "the feed page's signature does not verify with the log key");
	EVP_MD_CTX_free(ctx);
	json_t *signed_page = json_loadb((const char *)payload, payload_len, 0, NULL);
	ck_assert_ptr_nonnull(signed_page);
	json_object_del(page, "jws");
	ck_assert_msg(json_equal(signed_page, page), "the page is not what was signed");
	json_decref(signed_page);
	free(sig);
	free(payload);
	return page;
}

/* The whole unfiltered feed: every index from 0, contiguous; log_size of
 * the last page in *size. Returns the items (new). */
static json_t *feed_all(EVP_PKEY *key, long long *size)
{
	json_t *all = json_array();
	long long after = -1;
	for (;;) {
		char path[96];
		snprintf(path, sizeof path, "/v1/feed?after=%lld&limit=500", after);
		json_t *page = feed_get(path, key);
		json_t *items = json_object_get(page, "items");
		size_t i;
		json_t *it;
		json_array_foreach(items, i, it) {
			long long idx = json_integer_value(json_object_get(it, "log_index"));
			ck_assert_msg(idx == (long long)json_array_size(all), "feed index %lld after %zu items", idx,
				      json_array_size(all));
			json_array_append(all, it);
		}
		*size = json_integer_value(json_object_get(page, "log_size"));
		after = json_integer_value(json_object_get(page, "next_after"));
		size_t n = json_array_size(items);
		json_decref(page);
		if (n == 0)
			break;
	}
	return all;
}

START_TEST(ssrf_targets_are_refused)
{
	/* a loopback subscription made while it was allowed ... */
	char id[37], secret[80];
	subscribe("/rebind", json_pack("{s:s}", "serial", serials[3]), id, secret);
	/* ... and then a conformd of the same database without the allow
	 * setting, alone: it checks the target again before connecting */
	testsrv_stop(&w.srv);
	struct testsrv strict;
	const char *env[] = { w.signer.env, NULL };
	testsrv_start(&strict, &w.db, env);
	{
		char path[128];
		snprintf(path, sizeof path, "/v1/certificates/%s/suspend", serials[3]);
		json_decref(testsrv_api_text(&strict, "POST", path, w.certifier.token,
					     "{\"reason_code\":\"nonconformity\",\"reason\":\"x\"}", 200));
		char *dp = cf_asprintf("/v1/organisations/%s/webhooks/%s/deliveries", w.applicant.org, id);
		double until = now_s() + 20;
		for (;;) {
			json_t *d = testsrv_api_ok(&strict, "GET", dp, w.maker_admin.token, NULL, 200);
			json_t *one = json_array_get(json_object_get(d, "items"), 0);
			const char *error = one ? jsonx_str(one, "last_error") : NULL;
			bool refused = error && strstr(error, "loopback");
			if (refused) {
				ck_assert_str_eq(jsonx_str(one, "status"), "pending"); /* retried later */
				ck_assert_msg(json_is_null(json_object_get(one, "last_http_status")),
					      "a refused target answered");
			}
			json_decref(d);
			if (refused)
				break;
			ck_assert_msg(now_s() < until, "no refused attempt within 20 s");
			usleep(100000);
		}
		free(dp);
		ck_assert_int_eq(receipts("/rebind", NULL), 0);
		/* the backlog shows in the metrics */
		ck_assert(testsrv_metric(&strict, "conform_webhook_deliveries_pending") >= 1);
		ck_assert(testsrv_metric(&strict, "conform_webhook_deliveries_failed") >= 0);
		/* deleted (its pending delivery cancelled), and the certificate back */
		char *one_path = cf_asprintf("/v1/organisations/%s/webhooks/%s", w.applicant.org, id);
		json_decref(testsrv_api_ok(&strict, "DELETE", one_path, w.maker_admin.token, NULL, 204));
		free(one_path);
		snprintf(path, sizeof path, "/v1/certificates/%s/reinstate", serials[3]);
		json_decref(testsrv_api_text(&strict, "POST", path, w.certifier.token,
					     "{\"reason_code\":\"nonconformity\",\"reason\":\"x\"}", 200));
	}
	char *wp = webhooks_path(w.applicant.org);
	static const char *const refused[][2] = {
		{ "http://127.0.0.1:8080/hook", "loopback" },
		{ "http://169.254.169.254/latest/meta-data", "link-local" },
		{ "http://10.0.0.1/hook", "private" },
		{ "http://192.168.1.1/hook", "private" },
		{ "http://100.64.0.1/hook", "CGNAT" },
		{ "http://[::1]/hook", "loopback" },
		{ "http://[fd00::1]/hook", "unique local" },
		{ "http://0.0.0.0/hook", "unspecified" },
		{ "http://localhost:8080/hook", "loopback" }, /* a name resolving to loopback */
	};
	for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
		json_t *body = json_pack("{s:s}", "url", refused[i][0]);
		long status = 0;
		json_t *p = testsrv_api(&strict, "POST", wp, w.maker_admin.token, body, &status);
		ck_assert_msg(status == 422, "%s: %ld", refused[i][0], status);
		const char *detail = jsonx_str(p, "detail");
		ck_assert_msg(detail && strstr(detail, refused[i][1]) && strstr(detail, "webhook-allow-private"),
			      "%s: %s", refused[i][0], detail ? detail : "(no detail)");
		ck_assert_str_eq(jsonx_str(p, "pointer") ? jsonx_str(p, "pointer") : "/url", "/url");
		json_decref(p);
		json_decref(body);
	}
	/* malformed targets are 400 */
	static const char *const bad[] = { "ftp://example.org/x", "http://user@example.org/",
					   "http://example.org:99999/" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		json_t *body = json_pack("{s:s}", "url", bad[i]);
		json_decref(testsrv_api_ok(&strict, "POST", wp, w.maker_admin.token, body, 400));
		json_decref(body);
	}
	/* another organisation's administrator cannot subscribe for this one */
	json_t *body = json_pack("{s:s}", "url", "http://127.0.0.1:9/x");
	json_decref(testsrv_api_ok(&strict, "POST", wp, w.maker2_admin.token, body, 403));
	json_decref(body);
	free(wp);
	testsrv_stop(&strict);
	const char *env2[] = { w.signer.env, "CONFORM_WEBHOOK_ALLOW_PRIVATE=1", "CONFORM_WEBHOOK_RETRY_BASE=1",
			       NULL };
	testsrv_start(&w.srv, &w.db, env2);
	ck_assert_int_eq(receipts("/rebind", NULL), 0);
}
END_TEST

START_TEST(burst_of_500_changes_across_kill_9_arrives_once_per_id_signed)
{
	char id[37], secret[80];
	subscribe("/burst", json_pack("{s:s}", "manufacturer", w.applicant.org), id, secret);
	/* a subscription whose filter matches nothing here */
	char other[37], other_secret[80];
	subscribe("/none", json_pack("{s:s}", "manufacturer", w.applicant2.org), other, other_secret);
	double t0 = now_s();
	for (int k = 0; k < CHANGES; k++) {
		if (k == CHANGES / 2) {
			/* deliveries are under way: kill -9, start again */
			ck_assert_int_eq(kill(w.srv.pid, SIGKILL), 0);
			int status;
			ck_assert_int_eq(waitpid(w.srv.pid, &status, 0), w.srv.pid);
			w.srv.pid = 0;
			fprintf(stderr, "webhooks: killed with %d of %d received\n", receipts("/burst", NULL), k);
			testsrv_stop(&w.srv);
			const char *env[] = { w.signer.env, "CONFORM_WEBHOOK_ALLOW_PRIVATE=1",
					      "CONFORM_WEBHOOK_RETRY_BASE=1", NULL };
			testsrv_start(&w.srv, &w.db, env);
		}
		/* round k/CERTS of certificate k%CERTS: suspend on even rounds */
		change(serials[k % CERTS], (k / CERTS) % 2 == 0 ? "suspend" : "reinstate", 200);
	}
	fprintf(stderr, "webhooks: %d changes made in %.1f s\n", CHANGES, now_s() - t0);

	/* every delivery of the subscription arrives */
	PGresult *res = NULL;
	const char *p[] = { id };
	double until = now_s() + 60;
	for (;;) {
		res = testdb_super_query(&w.db,
			"SELECT count(*) FILTER (WHERE status = 'delivered'), count(*) FROM webhook_delivery"
			" WHERE subscription_id = $1", 1, p);
		long long delivered = atoll(PQgetvalue(res, 0, 0)), all = atoll(PQgetvalue(res, 0, 1));
		PQclear(res);
		ck_assert_int_eq(all, CHANGES);
		if (delivered == CHANGES)
			break;
		ck_assert_msg(now_s() < until, "%lld of %d delivered after 60 s", delivered, CHANGES);
		usleep(100000);
	}
	fprintf(stderr, "webhooks: all delivered %.1f s after the first change\n", now_s() - t0);

	/* what arrived: every delivery id, each signed; a repeat is a retry
	 * with the same body */
	res = testdb_super_query(&w.db,
		"SELECT d.id, d.log_index, d.payload FROM webhook_delivery d WHERE d.subscription_id = $1"
		" ORDER BY d.log_index", 1, p);
	ck_assert_int_eq(PQntuples(res), CHANGES);
	pthread_mutex_lock(&sub.lock);
	int repeats = 0;
	for (int i = 0; i < PQntuples(res); i++) {
		const char *did = PQgetvalue(res, i, 0);
		int seen = 0;
		for (int k = 0; k < sub.n; k++) {
			const struct receipt *r = &sub.r[k];
			if (strcmp(r->path, "/burst") != 0 || strcmp(r->id, did) != 0)
				continue;
			seen++;
			ck_assert_msg(signature_ok(secret, r), "delivery %s: the signature does not verify", did);
			ck_assert_str_eq(r->body, PQgetvalue(res, i, 2));
			json_t *ev = json_loads(r->body, 0, NULL);
			ck_assert_ptr_nonnull(ev);
			json_t *data = json_object_get(ev, "data");
			ck_assert_int_eq(json_integer_value(json_object_get(data, "log_index")),
					 atoll(PQgetvalue(res, i, 1)));
			ck_assert_str_eq(jsonx_str(data, "manufacturer"), w.applicant.org);
			const char *type = jsonx_str(ev, "type");
			ck_assert_msg(strcmp(type, "certificate.suspended") == 0 ||
					      strcmp(type, "certificate.reinstated") == 0,
				      "type %s", type);
			ck_assert_str_eq(jsonx_str(data, "reason_code"), "nonconformity");
			json_decref(ev);
		}
		ck_assert_msg(seen >= 1, "delivery %s never arrived", did);
		repeats += seen - 1;
	}
	int total = 0;
	for (int k = 0; k < sub.n; k++) {
		total += strcmp(sub.r[k].path, "/burst") == 0;
		ck_assert_msg(strcmp(sub.r[k].path, "/none") != 0, "a delivery that matches no filter arrived");
	}
	pthread_mutex_unlock(&sub.lock);
	PQclear(res);
	/* nothing arrived that is not a delivery of the outbox */
	ck_assert_int_eq(total, CHANGES + repeats);
	fprintf(stderr, "webhooks: %d received, %d repeats (retries after the kill)\n", total, repeats);

	/* every change's log index is in the feed, which is contiguous to the
	 * signed checkpoint and names each change */
	EVP_PKEY *key = log_public_key();
	long long size = 0;
	json_t *all = feed_all(key, &size);
	ck_assert_int_eq((long long)json_array_size(all), size);
	world_wait_checkpoint(&w, size);
	char *note = testsrv_get_text(&w.srv, "/v1/log/checkpoint", 200);
	long long cp = 0;
	sscanf(strchr(note, '\n') + 1, "%lld", &cp);
	ck_assert_int_ge(cp, size);
	free(note);
	int changes = 0;
	size_t i;
	json_t *it;
	json_array_foreach(all, i, it) {
		const char *type = jsonx_str(it, "type");
		if (strcmp(type, "certificate.suspended") == 0 || strcmp(type, "certificate.reinstated") == 0)
			changes++;
		/* the item carries the log entry's bytes: its leaf hash is theirs */
		const char *entry = jsonx_str(it, "entry");
		unsigned char leaf[32], pre[1] = { 0 };
		EVP_MD_CTX *c = EVP_MD_CTX_new();
		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
		EVP_DigestUpdate(c, pre, 1);
		EVP_DigestUpdate(c, entry, strlen(entry));
		EVP_DigestFinal_ex(c, leaf, NULL);
		EVP_MD_CTX_free(c);
		char hex[65];
		for (int b = 0; b < 32; b++)
			snprintf(hex + 2 * b, 3, "%02x", leaf[b]);
		ck_assert_str_eq(hex, jsonx_str(it, "leaf_hash"));
	}
	res = testdb_super_exec(&w.db, "SELECT count(*) FROM tlog_entry WHERE kind = 'status'");
	ck_assert_int_eq(changes, atoi(PQgetvalue(res, 0, 0)));
	PQclear(res);
	ck_assert_int_ge(changes, CHANGES);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(all, 0), "log_index")), 0);
	json_decref(all);
	EVP_PKEY_free(key);
}
END_TEST

START_TEST(a_failing_subscriber_is_retried_with_backoff_and_a_delivery_replayed)
{
	char id[37], secret[80];
	sub.fail_first = 2;
	subscribe("/fail", json_pack("{s:s}", "serial", serials[0]), id, secret);
	/* the certificate was left valid or suspended by the burst: one change */
	char path[128];
	snprintf(path, sizeof path, "/v1/certificates/%s", serials[0]);
	json_t *c = testsrv_api_ok(&w.srv, "GET", path, NULL, NULL, 200);
	bool suspended = strcmp(jsonx_str(c, "status"), "suspended") == 0;
	json_decref(c);
	change(serials[0], suspended ? "reinstate" : "suspend", 200);
	/* a change of another certificate matches no filter of this one */
	change(serials[1], "withdraw", 200);

	char *dp = cf_asprintf("/v1/organisations/%s/webhooks/%s/deliveries", w.applicant.org, id);
	json_t *d = NULL;
	double until = now_s() + 30;
	for (;;) {
		d = testsrv_api_ok(&w.srv, "GET", dp, w.maker_admin.token, NULL, 200);
		json_t *one = json_array_get(json_object_get(d, "items"), 0);
		if (one && strcmp(jsonx_str(one, "status"), "delivered") == 0)
			break;
		ck_assert_msg(now_s() < until, "not delivered within 30 s");
		json_decref(d);
		usleep(200000);
	}
	json_t *items = json_object_get(d, "items");
	ck_assert_int_eq(json_array_size(items), 1);
	json_t *one = json_array_get(items, 0);
	char did[48];
	snprintf(did, sizeof did, "%s", jsonx_str(one, "id"));
	ck_assert_int_eq(json_integer_value(json_object_get(one, "attempts")), 3);
	json_t *log = json_object_get(one, "attempt_log");
	ck_assert_int_eq(json_array_size(log), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(log, 0), "http_status")), 500);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(log, 1), "http_status")), 500);
	ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(log, 2), "http_status")), 200);
	json_decref(d);

	/* the waits grew: 1 s, then 2 s (webhook-retry-base=1) */
	double at[3];
	int n = 0;
	pthread_mutex_lock(&sub.lock);
	for (int k = 0; k < sub.n && n < 3; k++)
		if (strcmp(sub.r[k].id, did) == 0) {
			ck_assert_msg(signature_ok(secret, &sub.r[k]), "attempt %d is not signed", n + 1);
			at[n++] = sub.r[k].at;
		}
	pthread_mutex_unlock(&sub.lock);
	ck_assert_int_eq(n, 3);
	fprintf(stderr, "webhooks: retried after %.2f s, then %.2f s\n", at[1] - at[0], at[2] - at[1]);
	ck_assert_msg(at[1] - at[0] >= 0.9, "first retry after %.2f s", at[1] - at[0]);
	ck_assert_msg(at[2] - at[1] >= 1.9, "second retry after %.2f s", at[2] - at[1]);
	ck_assert_msg(at[2] - at[1] > at[1] - at[0], "the wait did not grow");

	/* replay: one more attempt with the same id, by the organisation's administrator only */
	char *rp = cf_asprintf("/v1/organisations/%s/webhooks/%s/deliveries/%s/replay", w.applicant.org, id, did);
	json_decref(testsrv_api_ok(&w.srv, "POST", rp, w.maker2_admin.token, NULL, 403));
	json_t *r = testsrv_api_ok(&w.srv, "POST", rp, w.maker_admin.token, NULL, 202);
	ck_assert_str_eq(jsonx_str(r, "id"), did);
	json_decref(r);
	until = now_s() + 15;
	while (receipts("/fail", did) < 4) {
		ck_assert_msg(now_s() < until, "the replay did not arrive");
		usleep(50000);
	}
	pthread_mutex_lock(&sub.lock);
	const struct receipt *last = NULL;
	for (int k = 0; k < sub.n; k++)
		if (strcmp(sub.r[k].id, did) == 0)
			last = &sub.r[k];
	ck_assert_msg(signature_ok(secret, last), "the replay is not signed");
	pthread_mutex_unlock(&sub.lock);
	/* an unknown delivery is 404 */
	char *bad = cf_asprintf("/v1/organisations/%s/webhooks/%s/deliveries/msg_0/replay", w.applicant.org, id);
	json_decref(testsrv_api_ok(&w.srv, "POST", bad, w.maker_admin.token, NULL, 404));
	free(bad);
	free(rp);
	free(dp);

	/* deleted: no more deliveries; the list no longer shows it */
	char *one_path = cf_asprintf("/v1/organisations/%s/webhooks/%s", w.applicant.org, id);
	json_decref(testsrv_api_ok(&w.srv, "DELETE", one_path, w.maker_admin.token, NULL, 204));
	json_decref(testsrv_api_ok(&w.srv, "DELETE", one_path, w.maker_admin.token, NULL, 404));
	free(one_path);
	char *wp = webhooks_path(w.applicant.org);
	json_t *list = testsrv_api_ok(&w.srv, "GET", wp, w.maker_admin.token, NULL, 200);
	size_t k;
	json_t *s;
	json_array_foreach(json_object_get(list, "items"), k, s)
		ck_assert_str_ne(jsonx_str(s, "id"), id);
	json_decref(list);
	free(wp);
}
END_TEST

/* Retailers and regulators are organisations of their own, whose
 * administrator subscribes. */
START_TEST(a_retailer_and_a_regulator_subscribe)
{
	char shop[37], authority[37], id[37], secret[80], rid[37], rsecret[80];
	world_org(&w, "retailer", "High Street Shop", shop);
	world_org(&w, "regulator", "Product Safety Office", authority);
	const struct actor *shop_admin = world_org_admin(&w, shop);
	const struct actor *authority_admin = world_org_admin(&w, authority);
	subscribe_as(shop, shop_admin->token, "/retail", json_pack("{s:s}", "body", w.certifier.org), id, secret);
	subscribe_as(authority, authority_admin->token, "/regulator",
		     json_pack("{s:s,s:s}", "scheme", "dcms-cop", "serial", serials[4]), rid, rsecret);
	/* the secret is shown once: no Idempotency-Key record may keep it */
	{
		char auth[96], *wp = webhooks_path(shop);
		snprintf(auth, sizeof auth, "Authorization: Bearer %s", shop_admin->token);
		const char *h[] = { auth, "Content-Type: application/json", "Idempotency-Key: k1", NULL };
		struct http_resp r;
		testsrv_req(&w.srv, &r, "POST", wp, h, "{\"url\":\"http://127.0.0.1:9/x\"}");
		ck_assert_int_eq(r.status, 400);
		http_resp_free(&r);
		free(wp);
	}
	/* one organisation's administrator does not reach the other's webhooks */
	char *other = cf_asprintf("/v1/organisations/%s/webhooks", authority);
	json_decref(testsrv_api_ok(&w.srv, "GET", other, shop_admin->token, NULL, 403));
	free(other);
	/* a retailer holds no role but its administrator's */
	json_t *person = json_pack("{s:s,s:s,s:[s]}", "name", "Till", "email", "till@example.org", "roles",
				   "applicant");
	long status = 0;
	json_decref(testsrv_api(&w.srv, "POST", "/v1/users", shop_admin->token, person, &status));
	ck_assert_int_ge(status, 400);
	json_decref(person);

	change(serials[4], "withdraw", 200);
	double until = now_s() + 20;
	while (receipts("/retail", NULL) < 1 || receipts("/regulator", NULL) < 1) {
		ck_assert_msg(now_s() < until, "the withdrawal did not reach the retailer and the regulator");
		usleep(50000);
	}
	pthread_mutex_lock(&sub.lock);
	for (int k = 0; k < sub.n; k++) {
		const struct receipt *r = &sub.r[k];
		bool retail = strcmp(r->path, "/retail") == 0, regulator = strcmp(r->path, "/regulator") == 0;
		if (!retail && !regulator)
			continue;
		ck_assert_msg(signature_ok(retail ? secret : rsecret, r), "%s: not signed", r->path);
		ck_assert_msg(!signature_ok(retail ? rsecret : secret, r), "%s: signed with the other secret",
			      r->path);
		json_t *ev = json_loads(r->body, 0, NULL);
		ck_assert_str_eq(jsonx_str(ev, "type"), "certificate.withdrawn");
		ck_assert_str_eq(jsonx_str(json_object_get(ev, "data"), "serial"), serials[4]);
		json_decref(ev);
	}
	pthread_mutex_unlock(&sub.lock);
}
END_TEST

START_TEST(the_feed_filters_and_refuses_bad_filters)
{
	EVP_PKEY *key = log_public_key();
	char path[160];
	/* by serial: only that certificate's issuance and changes, in order */
	snprintf(path, sizeof path, "/v1/feed?serial=%s&limit=500", serials[2]);
	json_t *page = feed_get(path, key);
	json_t *items = json_object_get(page, "items");
	ck_assert_int_ge(json_array_size(items), 2);
	ck_assert_str_eq(jsonx_str(json_array_get(items, 0), "type"), "certificate.issued");
	size_t i;
	json_t *it;
	long long last = -1;
	json_array_foreach(items, i, it) {
		ck_assert_str_eq(jsonx_str(it, "serial"), serials[2]);
		long long idx = json_integer_value(json_object_get(it, "log_index"));
		ck_assert_int_gt(idx, last);
		last = idx;
	}
	json_decref(page);
	/* by manufacturer: the other manufacturer has none */
	snprintf(path, sizeof path, "/v1/feed?manufacturer=%s", w.applicant2.org);
	page = feed_get(path, key);
	ck_assert_int_eq(json_array_size(json_object_get(page, "items")), 0);
	json_decref(page);
	/* by body and scheme: every certificate item here */
	snprintf(path, sizeof path, "/v1/feed?body=%s&scheme=dcms-cop&limit=3", w.certifier.org);
	page = feed_get(path, key);
	ck_assert_int_eq(json_array_size(json_object_get(page, "items")), 3);
	json_decref(page);
	/* a page after the end is empty, and still signed */
	page = feed_get("/v1/feed?after=1000000", key);
	ck_assert_int_eq(json_array_size(json_object_get(page, "items")), 0);
	json_decref(page);
	/* bad filters and positions */
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/feed?body=nope", NULL, NULL, 400));
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/feed?after=-5", NULL, NULL, 400));
	json_decref(testsrv_api_ok(&w.srv, "GET", "/v1/feed?limit=100000", NULL, NULL, 400));
	EVP_PKEY_free(key);
}
END_TEST

/* An accreditation suspended and reinstated puts its certificates under
 * review and out again: logged, in the feed, delivered. */
START_TEST(review_is_a_logged_change)
{
	char id[37], secret[80];
	subscribe("/review", json_pack("{s:s,s:s}", "body", w.certifier.org, "scheme", "dcms-cop"), id, secret);
	char path[128];
	snprintf(path, sizeof path, "/v1/accreditations/%s/suspend", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token,
				     "{\"reason\":\"the lab failed its surveillance audit\"}", 200));
	snprintf(path, sizeof path, "/v1/accreditations/%s/reinstate", w.accreditation_dcms);
	json_decref(testsrv_api_text(&w.srv, "POST", path, w.accreditor.token,
				     "{\"reason\":\"corrective actions closed\"}", 200));
	double until = now_s() + 20;
	while (receipts("/review", NULL) < 2) {
		ck_assert_msg(now_s() < until, "the review events did not arrive");
		usleep(50000);
	}
	EVP_PKEY *key = log_public_key();
	/* the body's last items: read after the log's end, less a few */
	json_t *page = feed_get("/v1/feed?limit=1", key);
	long long size = json_integer_value(json_object_get(page, "log_size"));
	json_decref(page);
	snprintf(path, sizeof path, "/v1/feed?body=%s&after=%lld", w.certifier.org, size - 10);
	page = feed_get(path, key);
	json_t *items = json_object_get(page, "items");
	size_t n = json_array_size(items);
	ck_assert_int_ge(n, 2);
	static const char *const types[] = { "review.accreditation_suspended", "review.accreditation_reinstated" };
	for (int k = 0; k < 2; k++) {
		json_t *it = json_array_get(items, n - 2 + (size_t)k);
		ck_assert_str_eq(jsonx_str(it, "type"), types[k]);
		ck_assert_str_eq(jsonx_str(it, "accreditation"), w.accreditation_dcms);
		ck_assert_str_eq(jsonx_str(it, "scheme"), "dcms-cop");
		ck_assert_ptr_null(jsonx_str(it, "serial"));
		ck_assert_ptr_nonnull(strstr(jsonx_str(it, "entry"), "\"kind\":\"review\""));
	}
	json_decref(page);
	EVP_PKEY_free(key);
	pthread_mutex_lock(&sub.lock);
	int seen[2] = { 0, 0 }; /* two delivery threads: either may arrive first */
	for (int k = 0; k < sub.n; k++) {
		if (strcmp(sub.r[k].path, "/review") != 0)
			continue;
		ck_assert_msg(signature_ok(secret, &sub.r[k]), "a review delivery is not signed");
		json_t *ev = json_loads(sub.r[k].body, 0, NULL);
		seen[0] += strcmp(jsonx_str(ev, "type"), types[0]) == 0;
		seen[1] += strcmp(jsonx_str(ev, "type"), types[1]) == 0;
		json_decref(ev);
	}
	pthread_mutex_unlock(&sub.lock);
	ck_assert_int_eq(seen[0], 1);
	ck_assert_int_eq(seen[1], 1);
}
END_TEST

/* A receiver that never answers 2xx: retried until webhook-retry-for has
 * passed, then the delivery is failed (and counted); a replay opens a new
 * window with the same id. */
START_TEST(a_delivery_that_keeps_failing_is_marked_failed)
{
	testsrv_stop(&w.srv);
	const char *env[] = { w.signer.env, "CONFORM_WEBHOOK_ALLOW_PRIVATE=1", "CONFORM_WEBHOOK_RETRY_BASE=1",
			      "CONFORM_WEBHOOK_RETRY_FOR=2", NULL };
	testsrv_start(&w.srv, &w.db, env);
	char id[37], secret[80];
	subscribe("/down", json_pack("{s:s}", "serial", serials[2]), id, secret);
	change(serials[2], "suspend", 200);
	char *dp = cf_asprintf("/v1/organisations/%s/webhooks/%s/deliveries", w.applicant.org, id);
	double until = now_s() + 20;
	json_t *d = NULL, *one = NULL;
	for (;;) {
		d = testsrv_api_ok(&w.srv, "GET", dp, w.maker_admin.token, NULL, 200);
		one = json_array_get(json_object_get(d, "items"), 0);
		if (one && strcmp(jsonx_str(one, "status"), "failed") == 0)
			break;
		ck_assert_msg(now_s() < until, "not failed within 20 s");
		json_decref(d);
		usleep(200000);
	}
	/* 1 s after the first, then 2 s more would pass the 2 s window */
	ck_assert_int_eq(json_integer_value(json_object_get(one, "attempts")), 2);
	ck_assert_int_eq(json_integer_value(json_object_get(one, "last_http_status")), 503);
	ck_assert(json_is_null(json_object_get(one, "next_attempt_at")));
	char did[48];
	snprintf(did, sizeof did, "%s", jsonx_str(one, "id"));
	json_decref(d);
	ck_assert_int_eq(receipts("/down", did), 2);
	ck_assert(testsrv_metric(&w.srv, "conform_webhook_deliveries_failed") >= 1);
	/* nothing more is tried */
	usleep(1500000);
	ck_assert_int_eq(receipts("/down", did), 2);
	/* a replay tries again, the same id */
	char *rp = cf_asprintf("%s/%s/replay", dp, did);
	json_t *r = testsrv_api_ok(&w.srv, "POST", rp, w.maker_admin.token, NULL, 202);
	ck_assert_str_eq(jsonx_str(r, "status"), "pending");
	json_decref(r);
	until = now_s() + 15;
	while (receipts("/down", did) < 3) {
		ck_assert_msg(now_s() < until, "the replay was not tried");
		usleep(50000);
	}
	free(rp);
	free(dp);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("webhooks");
	TCase *tc = tcase_create("webhooks");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 180);
	tcase_add_test(tc, ssrf_targets_are_refused);
	tcase_add_test(tc, burst_of_500_changes_across_kill_9_arrives_once_per_id_signed);
	tcase_add_test(tc, a_failing_subscriber_is_retried_with_backoff_and_a_delivery_replayed);
	tcase_add_test(tc, a_retailer_and_a_regulator_subscribe);
	tcase_add_test(tc, the_feed_filters_and_refuses_bad_filters);
	tcase_add_test(tc, review_is_a_logged_change);
	tcase_add_test(tc, a_delivery_that_keeps_failing_is_marked_failed);
	suite_add_tcase(s, tc);
	return tsupport_run(s);
}
