/*
 * bench_naive: the "naive server" of issue 12, that conformd's cache misses
 * are measured against. libmicrohttpd with the same threading as conformd
 * and bench_baseline (internal epoll thread pool of the given size, the
 * two-phase answer so connections stay alive) plus libpq: one connection
 * per worker thread, made on its first request, and ONE prepared SELECT per
 * GET /v1/certificates/{serial}, whose stored payload is sent inside a small
 * JSON object built with snprintf. No cache, no status computation, no log
 * proof: what a first attempt at the endpoint would do.
 *
 *   CONFORM_DATABASE_URL=... bench_naive PORT THREADS
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <microhttpd.h>

#define PREFIX "/v1/certificates/"
#define QUERY "SELECT payload, status, valid_until FROM certificate WHERE serial = $1"

static const char *database_url;
static pthread_key_t conn_key; /* each worker thread's PGconn, finished at thread exit */
static const char not_found[] = "{\"status\":404,\"title\":\"not found\"}";
static const char failed[] = "{\"status\":500,\"title\":\"database error\"}";

static void conn_free(void *c)
{
	PQfinish(c);
}

/* The calling thread's connection with the statement prepared, or NULL
 * (reported on stderr). */
static PGconn *worker_conn(void)
{
	PGconn *c = pthread_getspecific(conn_key);
	if (c && PQstatus(c) == CONNECTION_OK)
		return c;
	PQfinish(c);
	pthread_setspecific(conn_key, NULL);
	c = PQconnectdb(database_url);
	if (PQstatus(c) != CONNECTION_OK) {
		fprintf(stderr, "bench_naive: cannot connect: %s", PQerrorMessage(c));
		PQfinish(c);
		return NULL;
	}
	PGresult *r = PQprepare(c, "get", QUERY, 1, NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		fprintf(stderr, "bench_naive: cannot prepare: %s", PQerrorMessage(c));
		PQclear(r);
		PQfinish(c);
		return NULL;
	}
	PQclear(r);
	pthread_setspecific(conn_key, c);
	return c;
}

static enum MHD_Result send_static(struct MHD_Connection *conn, unsigned status, const char *body,
				   size_t len)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)(size_t)body,
								 MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url,
			      const char *method, const char *version, const char *upload_data,
			      size_t *upload_data_size, void **con_cls)
{
	(void)cls;
	(void)version;
	(void)upload_data;
	/* two-phase, as bench_baseline: answering in the first call would make
	 * libmicrohttpd close the connection */
	static int marker;
	if (*con_cls == NULL) {
		*con_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	const char *serial = url + strlen(PREFIX);
	if (strcmp(method, "GET") != 0 || strncmp(url, PREFIX, strlen(PREFIX)) != 0 || !*serial ||
	    strchr(serial, '/') || strlen(serial) > 40)
		return send_static(conn, 404, not_found, sizeof not_found - 1);
	PGconn *c = worker_conn();
	if (!c)
		return send_static(conn, 500, failed, sizeof failed - 1);
	const char *params[] = { serial };
	PGresult *res = PQexecPrepared(c, "get", 1, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		fprintf(stderr, "bench_naive: %s", PQerrorMessage(c));
		PQclear(res);
		return send_static(conn, 500, failed, sizeof failed - 1);
	}
	if (PQntuples(res) == 0) {
		PQclear(res);
		return send_static(conn, 404, not_found, sizeof not_found - 1);
	}
	/* the serial matched a stored one exactly, so it needs no escaping */
	const char *payload = PQgetvalue(res, 0, 0), *status = PQgetvalue(res, 0, 1),
		   *until = PQgetvalue(res, 0, 2);
	size_t cap = strlen(serial) + strlen(payload) + strlen(status) + strlen(until) + 96;
	char *body = malloc(cap);
	if (!body) {
		PQclear(res);
		return send_static(conn, 500, failed, sizeof failed - 1);
	}
	int n = snprintf(body, cap,
			 "{\"serial\":\"%s\",\"status\":\"%s\",\"valid_until\":\"%s\",\"credential\":%s}",
			 serial, status, until, payload);
	PQclear(res);
	struct MHD_Response *r = MHD_create_response_from_buffer((size_t)n, body, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result ret = MHD_queue_response(conn, 200, r);
	MHD_destroy_response(r);
	return ret;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: CONFORM_DATABASE_URL=... bench_naive PORT THREADS\n");
		return 2;
	}
	database_url = getenv("CONFORM_DATABASE_URL");
	if (!database_url || !*database_url) {
		fprintf(stderr, "bench_naive: CONFORM_DATABASE_URL is not set\n");
		return 2;
	}
	unsigned port = (unsigned)atoi(argv[1]);
	unsigned threads = (unsigned)atoi(argv[2]);
	if (pthread_key_create(&conn_key, conn_free) != 0)
		return 1;
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL, (unsigned short)port, NULL, NULL,
		answer, NULL, MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_CONNECTION_LIMIT, 1024u,
		MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "bench_naive: cannot listen on port %u\n", port);
		return 1;
	}
	int sig;
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	return 0;
}
