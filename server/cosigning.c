/*
 * cosigning: the witness submission thread (see cosigning.h).
 */
#include "cosigning.h"

#include <curl/curl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "codec.h"
#include "db.h"
#include "digest.h"
#include "log.h"
#include "logsigner.h"
#include "mem.h"
#include "server.h"
#include "tlog.h"
#include "ticker.h"

/* Why a witness refused a checkpoint: the metric's reason label. */
enum reason { R_FORK, R_INCONSISTENT, R_AHEAD, R_SIGNATURE, R_UNKNOWN_LOG, R_BAD_REQUEST,
	      R_BAD_COSIGNATURE, R_COUNT };
static const char *const reason_names[R_COUNT] = {
	"fork", "inconsistent", "ahead", "signature", "unknown_log", "bad_request", "bad_cosignature"
};

/* A witness's answers are short: signature lines or a size. */
#define ANSWER_MAX 65536
/* Retries after a failure or refusal: 1 s, doubled, at most this. */
#define BACKOFF_MAX_S 300
#define POLL_MS 1000

struct wstate {
	long long cosigned;        /* the latest size it cosigned, as stored; -1: not read yet */
	long long known;           /* the size the witness last said it holds; -1: unknown */
	time_t next_try;
	int fails;                 /* in a row, for the backoff */
	atomic_llong cosigned_size; /* for the metric */
	atomic_ulong refusals[R_COUNT];
	atomic_ulong failures;     /* unreachable, timeouts, unexpected answers */
	atomic_ulong cosignatures;
};

static struct witness_set *witnesses;
static struct wstate states[WITNESS_MAX];
static struct ticker ticker = TICKER_INIT;

cf_err cosigning_init(const struct config *cfg, struct cf_error *err)
{
	witness_set_free(witnesses);
	witnesses = NULL;
	cf_err e = witness_load(cfg->witnesses_file, cfg->witness_quorum, &witnesses, err);
	if (e)
		return e;
	for (size_t i = 0; i < WITNESS_MAX; i++) {
		states[i].cosigned = -1;
		states[i].known = -1;
		states[i].next_try = 0;
		states[i].fails = 0;
		atomic_store(&states[i].cosigned_size, 0);
		for (int r = 0; r < R_COUNT; r++)
			atomic_store(&states[i].refusals[r], 0);
		atomic_store(&states[i].failures, 0);
		atomic_store(&states[i].cosignatures, 0);
	}
	if (witnesses->n)
		log_info("the log's checkpoints go to %zu witnesses; %zu cosignatures make one witnessed",
			 witnesses->n, witnesses->quorum);
	return CF_OK;
}

const struct witness_set *cosigning_witnesses(void)
{
	static const struct witness_set none;
	return witnesses ? witnesses : &none;
}

struct answer {
	char data[ANSWER_MAX + 1];
	size_t len;
	bool overflow;
};

static size_t collect(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	struct answer *a = userdata;
	size_t n = size * nmemb;
	if (a->len + n > ANSWER_MAX) {
		a->overflow = true;
		return 0;
	}
	memcpy(a->data + a->len, ptr, n);
	a->len += n;
	a->data[a->len] = '\0';
	return n;
}

/* One HTTP exchange: body NULL is a GET. *status 0 on a transport failure
 * (why in why). */
static void exchange(const char *url, const char *body, long *status, struct answer *a,
		     char why[CURL_ERROR_SIZE])
{
	*status = 0;
	a->len = 0;
	a->data[0] = '\0';
	a->overflow = false;
	why[0] = '\0';
	CURL *c = curl_easy_init();
	if (!c) {
		snprintf(why, CURL_ERROR_SIZE, "cannot make an HTTP client");
		return;
	}
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: text/plain; charset=utf-8");
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 15L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, a);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	}
	CURLcode rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
	else if (!why[0])
		snprintf(why, CURL_ERROR_SIZE, "%s", curl_easy_strerror(rc));
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
}

/* Line n (0-based) of text into out ("" when absent). */
static void note_line(const char *text, int n, char *out, size_t size)
{
	const char *p = text;
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p) {
		out[0] = '\0';
		return;
	}
	snprintf(out, size, "%.*s", (int)strcspn(p, "\n"), p);
}

/* The root the witness has cosigned at its size, asked of its monitoring
 * endpoint (tlog-witness: GET <prefix>/<hex SHA-256 of the origin>/checkpoint),
 * for the fork report; "unknown" when it does not say. */
static void their_root(const struct witness *w, const char *origin, char *out, size_t size)
{
	char hex[DIGEST_SHA256_HEX_LEN];
	digest_sha256_hex(origin, strlen(origin), hex);
	char *url = cf_asprintf("%s/%s/checkpoint", w->url, hex);
	struct answer *a = cf_malloc(sizeof *a);
	char why[CURL_ERROR_SIZE];
	long status = 0;
	exchange(url, NULL, &status, a, why);
	snprintf(out, size, "unknown (the witness does not serve its checkpoint)");
	if (status == 200) {
		char o[256];
		note_line(a->data, 0, o, sizeof o);
		if (strcmp(o, origin) == 0)
			note_line(a->data, 2, out, size);
	}
	free(a);
	free(url);
}

static void backoff(struct wstate *st)
{
	if (st->fails < 30)
		st->fails++;
	long s = 1L << (st->fails > 9 ? 9 : st->fails - 1);
	st->next_try = time(NULL) + (s > BACKOFF_MAX_S ? BACKOFF_MAX_S : s);
}

static void refused(struct wstate *st, enum reason r)
{
	atomic_fetch_add(&st->refusals[r], 1);
	backoff(st);
}

/* Submits the checkpoint of size size to witness i until it cosigns, refuses
 * or cannot be reached. */
static void submit(struct db *db, size_t i, long long size, const char *note)
{
	const struct witness *w = &witnesses->w[i];
	struct wstate *st = &states[i];
	struct cf_error err;
	char *text = witness_note_text(note);
	char origin[256], root[64];
	note_line(text ? text : "", 0, origin, sizeof origin);
	note_line(text ? text : "", 2, root, sizeof root);
	char *url = cf_asprintf("%s/add-checkpoint", w->url);
	struct answer *a = cf_malloc(sizeof *a);
	long long old = st->known >= 0 ? st->known : st->cosigned;
	/* a 409 names the witness's size: one resubmission from it, and one more
	 * should the witness move meanwhile */
	for (int attempt = 0; attempt < 3; attempt++) {
		if (old > size) {
			log_error("witness %s has cosigned a tree of size %lld of this log, beyond its "
				  "latest checkpoint (size %lld, root %s): this log has been forked or "
				  "rolled back", w->name, old, size, root);
			refused(st, R_AHEAD);
			goto out;
		}
		json_t *proof = NULL;
		if (old > 0 && old < size) {
			json_t *c = NULL;
			if (tlog_consistency(db, old, size, &c, &err)) {
				log_warn("witness %s: no consistency proof from size %lld to %lld: %s",
					 w->name, old, size, err.detail);
				atomic_fetch_add(&st->failures, 1);
				backoff(st);
				goto out;
			}
			proof = json_incref(json_object_get(c, "consistency_path"));
			json_decref(c);
		}
		char *body = witness_request_body(old, proof, note);
		json_decref(proof);
		long status = 0;
		char why[CURL_ERROR_SIZE];
		exchange(url, body, &status, a, why);
		free(body);
		if (status == 200) {
			char *line = NULL;
			unsigned long long ts = 0;
			cf_err e = text ? witness_check_answer(w, text, a->data, &line, &ts, &err)
					: cf_error_set(&err, CF_EINTERNAL, NULL, "the checkpoint is no note");
			if (!e)
				e = witness_store(db, size, w, ts, line, &err);
			free(line);
			if (e == CF_EUNPROCESSABLE) {
				log_error("witness %s: %s (checkpoint of size %lld)", w->name, err.detail,
					  size);
				st->known = size;
				refused(st, R_BAD_COSIGNATURE);
			} else if (e) {
				log_warn("witness %s: its cosignature of size %lld is not stored: %s",
					 w->name, size, err.detail);
				atomic_fetch_add(&st->failures, 1);
				backoff(st);
			} else {
				st->cosigned = st->known = size;
				st->fails = 0;
				st->next_try = 0;
				atomic_store(&st->cosigned_size, size);
				atomic_fetch_add(&st->cosignatures, 1);
				log_info("witness %s cosigned the checkpoint of size %lld", w->name, size);
			}
			goto out;
		}
		if (status == 409) {
			char *end = NULL;
			long long theirs = strtoll(a->data, &end, 10);
			if (end == a->data || (*end && *end != '\n') || theirs < 0) {
				log_warn("witness %s answered 409 without a tree size", w->name);
				atomic_fetch_add(&st->failures, 1);
				backoff(st);
				goto out;
			}
			old = st->known = theirs;
			continue;
		}
		if (status == 422 && old == size) {
			char theirs[160];
			their_root(w, origin, theirs, sizeof theirs);
			log_error("witness %s refused the checkpoint of size %lld as a fork: it has "
				  "cosigned another tree of that size; this log's root %s, the "
				  "witness's root %s", w->name, size, root, theirs);
			refused(st, R_FORK);
		} else if (status == 422) {
			log_error("witness %s refused the consistency of size %lld (root %s) with size "
				  "%lld that it cosigned: this log's history differs from what the "
				  "witness saw", w->name, size, root, old);
			refused(st, R_INCONSISTENT);
		} else if (status == 403) {
			log_error("witness %s refused the checkpoint of size %lld: it does not trust the "
				  "log's key (give the witness the log's vkey, GET /v1/log/vkey)",
				  w->name, size);
			refused(st, R_SIGNATURE);
		} else if (status == 404) {
			log_error("witness %s does not know this log (origin %s): its operator must add "
				  "it", w->name, origin);
			refused(st, R_UNKNOWN_LOG);
		} else if (status == 400) {
			log_error("witness %s refused the request for size %lld as malformed: %.200s",
				  w->name, size, a->data);
			refused(st, R_BAD_REQUEST);
		} else {
			if (st->fails == 0)
				log_warn("witness %s is not reachable (%s%s; HTTP %ld): retried with a "
					 "backoff; signing goes on", w->name, why, a->overflow ?
					 "; its answer is too long" : "", status);
			atomic_fetch_add(&st->failures, 1);
			backoff(st);
		}
		goto out;
	}
	log_warn("witness %s keeps changing its tree size; retried later", w->name);
	backoff(st);
out:
	free(a);
	free(url);
	free(text);
}

static void round_once(struct server *srv, struct db **db)
{
	struct cf_error err;
	if (!*db && db_connect(srv->runtime_conninfo, db, &err))
		return;
	long long size = 0;
	char root[65];
	char *note = NULL;
	if (witness_latest_checkpoint(*db, &size, root, &note, &err)) {
		if (!db_alive(*db)) {
			db_close(*db);
			*db = NULL;
		}
		return;
	}
	time_t now = time(NULL);
	for (size_t i = 0; note && i < witnesses->n; i++) {
		struct wstate *st = &states[i];
		if (st->cosigned < 0) {
			long long s = 0;
			if (witness_cosigned_size(*db, &witnesses->w[i], &s, &err))
				continue;
			st->cosigned = s;
			atomic_store(&st->cosigned_size, s);
		}
		if (st->cosigned >= size || now < st->next_try)
			continue;
		submit(*db, i, size, note);
	}
	free(note);
}

static void *run(void *arg)
{
	struct server *srv = arg;
	struct db *db = NULL;
	while (!ticker_stopping(&ticker)) {
		/* only the instance that signs submits: one submitter per log */
		if (logsigner_holding())
			round_once(srv, &db);
		if (!ticker_sleep(&ticker, POLL_MS))
			break;
	}
	db_close(db);
	return NULL;
}

void cosigning_start(struct server *srv)
{
	if (!witnesses || witnesses->n == 0)
		return;
	curl_global_init(CURL_GLOBAL_DEFAULT);
	ticker_start(&ticker, 1, run, srv, "witness submission");
}

void cosigning_wake(void)
{
	ticker_wake(&ticker);
}

void cosigning_stop(void)
{
	if (ticker.nthreads == 0)
		return;
	ticker_stop(&ticker);
	curl_global_cleanup();
}

cf_err cosigning_metrics(struct buf *b, struct cf_error *err)
{
	const struct witness_set *s = cosigning_witnesses();
	if (s->n == 0)
		return CF_OK;
	cf_err e = buf_puts(b,
		"# HELP conform_witness_cosigned_size The size of the latest checkpoint each witness "
		"cosigned, as this process knows it.\n"
		"# TYPE conform_witness_cosigned_size gauge\n", err);
	for (size_t i = 0; !e && i < s->n; i++)
		e = buf_printf(b, err, "conform_witness_cosigned_size{witness=\"%s\"} %lld\n",
			       s->w[i].name, (long long)atomic_load(&states[i].cosigned_size));
	if (!e)
		e = buf_puts(b,
			"# HELP conform_witness_refusals_total Checkpoints a witness refused, by reason "
			"(fork: another tree of the same size was cosigned).\n"
			"# TYPE conform_witness_refusals_total counter\n", err);
	for (size_t i = 0; !e && i < s->n; i++)
		for (int r = 0; !e && r < R_COUNT; r++)
			e = buf_printf(b, err,
				       "conform_witness_refusals_total{witness=\"%s\",reason=\"%s\"} %lu\n",
				       s->w[i].name, reason_names[r],
				       atomic_load(&states[i].refusals[r]));
	if (!e)
		e = buf_puts(b,
			"# HELP conform_witness_failures_total Submissions to a witness that failed "
			"(unreachable, timeout, unexpected answer); retried with a backoff.\n"
			"# TYPE conform_witness_failures_total counter\n", err);
	for (size_t i = 0; !e && i < s->n; i++)
		e = buf_printf(b, err, "conform_witness_failures_total{witness=\"%s\"} %lu\n",
			       s->w[i].name, atomic_load(&states[i].failures));
	if (!e)
		e = buf_puts(b,
			"# HELP conform_witness_cosignatures_total Cosignatures received and stored.\n"
			"# TYPE conform_witness_cosignatures_total counter\n", err);
	for (size_t i = 0; !e && i < s->n; i++)
		e = buf_printf(b, err, "conform_witness_cosignatures_total{witness=\"%s\"} %lu\n",
			       s->w[i].name, atomic_load(&states[i].cosignatures));
	return e;
}
