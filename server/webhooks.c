/*
 * webhooks: the delivery threads (see webhooks.h).
 */
#include "webhooks.h"

#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "db.h"
#include "log.h"
#include "server.h"
#include "webhook.h"
#include "ticker.h"

/* Threads per conformd; instances add theirs. */
#define WEBHOOK_THREADS 2
/* How often an idle thread looks for due deliveries. */
#define WEBHOOK_POLL_MS 250
/* The most of an answer's body that is read (and ignored). */
#define WEBHOOK_ANSWER_CAP 65536

static struct ticker ticker = TICKER_INIT;

struct answer {
	size_t bytes;
};

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
	(void)data;
	struct answer *a = arg;
	a->bytes += size * n;
	return a->bytes > WEBHOOK_ANSWER_CAP ? 0 : size * n; /* 0 ends the transfer */
}

/* Every connection is checked again where it is made: whatever curl was
 * told, it cannot reach a refused address. */
static curl_socket_t open_checked(void *arg, curlsocktype purpose, struct curl_sockaddr *address)
{
	(void)purpose;
	const struct server *srv = arg;
	if (webhook_addr_refused(&address->addr, srv->cfg->webhook_allow_private != 0))
		return CURL_SOCKET_BAD;
	return socket(address->family, address->socktype, address->protocol);
}

/* POSTs j; *status the HTTP status (0: none), error (may be "") why not. */
static void post(struct server *srv, const struct webhook_job *j, int *status, char *error, size_t size)
{
	struct cf_error err;
	struct webhook_target t;
	CURL *c = NULL;
	struct curl_slist *headers = NULL, *resolve = NULL;
	char *sig = NULL;
	*status = 0;
	error[0] = '\0';
	if (webhook_resolve(j->url, srv->cfg->webhook_allow_private != 0, &t, &err)) {
		snprintf(error, size, "%.500s", err.detail);
		goto out;
	}
	long long ts = (long long)time(NULL);
	sig = webhook_signature(j->secret, j->id, ts, j->payload, strlen(j->payload));
	if (!sig) {
		snprintf(error, size, "the subscription's secret is malformed");
		goto out;
	}
	char line[512];
	snprintf(line, sizeof line, "webhook-id: %s", j->id);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof line, "webhook-timestamp: %lld", ts);
	headers = curl_slist_append(headers, line);
	snprintf(line, sizeof line, "webhook-signature: %s", sig);
	headers = curl_slist_append(headers, line);
	headers = curl_slist_append(headers, "Content-Type: application/json");
	headers = curl_slist_append(headers, "User-Agent: conform-webhooks");
	headers = curl_slist_append(headers, "Expect:");
	/* the address checked above is the one used: no second resolution */
	snprintf(line, sizeof line, strchr(t.addr, ':') ? "%s:%u:[%s]" : "%s:%u:%s", t.host, t.port, t.addr);
	resolve = curl_slist_append(NULL, line);
	c = curl_easy_init();
	if (!c) {
		snprintf(error, size, "cannot start an HTTP client");
		goto out;
	}
	struct answer a = { 0 };
	char curl_err[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(c, CURLOPT_URL, j->url);
	curl_easy_setopt(c, CURLOPT_RESOLVE, resolve);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_checked);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, srv);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, srv->cfg->webhook_timeout);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, srv->cfg->webhook_timeout);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->payload);
	curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(j->payload));
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, curl_err);
	CURLcode rc = curl_easy_perform(c);
	long code = 0;
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
	*status = (int)code;
	/* an answer longer than the cap still has its status */
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && code > 0))
		snprintf(error, size, "%s", curl_err[0] ? curl_err : curl_easy_strerror(rc));
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(headers);
	curl_slist_free_all(resolve);
	free(sig);
}

/* Delivers one due row; false when there was none (or the database failed). */
static bool deliver_one(struct server *srv, struct db **db)
{
	struct cf_error err;
	struct webhook_job j;
	bool found = false;
	if (!*db && db_connect(srv->runtime_conninfo, db, &err))
		return false;
	if (webhook_claim(*db, &j, &found, &err)) {
		if (!db_alive(*db)) {
			db_close(*db);
			*db = NULL;
		}
		return false;
	}
	if (!found)
		return false;
	int status = 0;
	char error[512];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	post(srv, &j, &status, error, sizeof error);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	char id[40];
	snprintf(id, sizeof id, "%s", j.id);
	if (status < 200 || status > 299)
		log_info("webhook delivery %s: %s%s%d", id, error, error[0] ? "; HTTP status " : "HTTP status ",
			 status);
	if (webhook_finish(*db, &j, status, error[0] ? error : NULL, ms, srv->cfg->webhook_retry_base,
			   srv->cfg->webhook_retry_for, &err)) {
		log_warn("webhook delivery %s: its outcome was not recorded: %s", id, err.detail);
		if (!db_alive(*db)) {
			db_close(*db);
			*db = NULL;
		}
		return false;
	}
	return true;
}

static void *run(void *arg)
{
	struct server *srv = arg;
	struct db *db = NULL;
	while (!ticker_stopping(&ticker))
		if (!deliver_one(srv, &db) && !ticker_sleep(&ticker, WEBHOOK_POLL_MS))
			break;
	db_close(db);
	return NULL;
}

void webhooks_start(struct server *srv)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ticker_start(&ticker, WEBHOOK_THREADS, run, srv, "webhook delivery");
}

void webhooks_stop(void)
{
	ticker_stop(&ticker);
}
