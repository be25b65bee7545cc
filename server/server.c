/*
 * server: start and graceful stop of the libmicrohttpd daemon (see server.h).
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "certcache.h"
#include "clientaddr.h"
#include "conntrack.h"
#include "cosigning.h"
#include "http.h"
#include "janitor.h"
#include "logsigner.h"
#include "webhooks.h"
#include "log.h"
#include "mem.h"
#include "metrics.h"
#include "signer.h"
#include "throttle.h"
#include "workerdb.h"

/*
 * libmicrohttpd's messages, at most MHD_LOG_BURST a window of MHD_LOG_WINDOW
 * seconds: it says something for every connection refused over a limit or
 * closed with its request incomplete, and a flood of those must not become
 * a flood of the disk. The rest of a window is counted and said once.
 */
#define MHD_LOG_BURST 20
#define MHD_LOG_WINDOW 10

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	(void)cls;
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static time_t window;
	static unsigned said, dropped;
	char msg[512];
	vsnprintf(msg, sizeof msg, fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	time_t now = time(NULL);
	unsigned before = 0;
	bool say;
	pthread_mutex_lock(&mu);
	if (now - window >= MHD_LOG_WINDOW) {
		before = dropped;
		window = now;
		said = dropped = 0;
	}
	say = said < MHD_LOG_BURST;
	if (say)
		said++;
	else
		dropped++;
	pthread_mutex_unlock(&mu);
	if (before)
		log_warn("libmicrohttpd: %u more messages in %d s were not logged", before,
			 MHD_LOG_WINDOW);
	if (say)
		log_warn("libmicrohttpd: %s", msg);
}

/*
 * The open-files limit must hold the connections plus the process's own
 * descriptors (a database connection per worker, the signer, logs, evidence
 * files being written): raise the soft limit as far as the hard one allows,
 * and else serve fewer connections than asked, saying so, rather than fail
 * accept() with EMFILE under load.
 */
#define FD_RESERVE 256

static unsigned connection_budget(long asked, long threads)
{
	rlim_t need = (rlim_t)asked + FD_RESERVE + (rlim_t)threads * 4;
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return (unsigned)asked;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
		struct rlimit raised = { want, rl.rlim_max };
		if (setrlimit(RLIMIT_NOFILE, &raised) == 0)
			rl.rlim_cur = want;
	}
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur >= need)
		return (unsigned)asked;
	rlim_t spare = rl.rlim_cur - FD_RESERVE - (rlim_t)threads * 4;
	long fit = rl.rlim_cur > FD_RESERVE + (rlim_t)threads * 4 + 16 ? (long)spare : 16;
	log_warn("the open-files limit (%llu) allows %ld connections, not the %ld of "
		 "CONFORM_CONNECTION_LIMIT: serving %ld (raise LimitNOFILE= / ulimit -n)",
		 (unsigned long long)rl.rlim_cur, fit, asked, fit);
	return (unsigned)fit;
}

/* Parses "host:port", "[v6]:port" or ":port" into addr. */
static cf_err parse_listen(const char *listen, struct sockaddr_storage *addr, socklen_t *len,
			   struct cf_error *err)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return cf_error_set(err, CF_EINVAL, NULL, "listen: '%s' is not host:port", listen);
	size_t hlen = (size_t)(colon - listen);
	if (hlen >= sizeof host)
		return cf_error_set(err, CF_EINVAL, NULL, "listen: the host is too long");
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	char *end = NULL;
	long port = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || port < 0 || port > 65535)
		return cf_error_set(err, CF_EINVAL, NULL, "listen: '%s' is not a port", colon + 1);
	memset(addr, 0, sizeof *addr);
	if (host[0] == '[') {
		size_t n = strlen(host);
		if (n < 2 || host[n - 1] != ']')
			return cf_error_set(err, CF_EINVAL, NULL, "listen: bad IPv6 address '%s'", host);
		host[n - 1] = '\0';
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)addr;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((unsigned short)port);
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return cf_error_set(err, CF_EINVAL, NULL, "listen: bad IPv6 address '%s'", host + 1);
		*len = sizeof *a6;
		return CF_OK;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)addr;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((unsigned short)port);
	if (host[0] == '\0' || strcmp(host, "*") == 0)
		a4->sin_addr.s_addr = htonl(INADDR_ANY);
	else if (strcmp(host, "localhost") == 0)
		a4->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	else if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return cf_error_set(err, CF_EINVAL, NULL, "listen: '%s' is not an IPv4 address", host);
	*len = sizeof *a4;
	return CF_OK;
}

/*
 * Why libmicrohttpd could not listen on addr, which it does not say: the
 * bind is tried again here to name the cause. A second conformd on a port
 * in use fails here ("already in use"), as a sysadmin expects: the port is
 * not shared (no SO_REUSEPORT), so that two processes never split one
 * address's connections between them unnoticed.
 */
static cf_err listen_failure(const char *where, const struct sockaddr_storage *addr, socklen_t len,
			     struct cf_error *err)
{
	int fd = socket(addr->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1, why = 0;
	if (fd < 0) {
		why = errno;
	} else {
		/* as libmicrohttpd binds: a port in TIME_WAIT is not "in use" */
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
		if (bind(fd, (const struct sockaddr *)addr, len) != 0 || listen(fd, 1) != 0)
			why = errno;
		close(fd);
	}
	if (why == EADDRINUSE)
		return cf_error_set(err, CF_EIO, NULL,
				    "cannot listen on %s: the address is already in use (another conformd, "
				    "or another service, listens there; see CONFORM_LISTEN)", where);
	if (why == EACCES)
		return cf_error_set(err, CF_EIO, NULL,
				    "cannot listen on %s: permission denied (a port below 1024 needs "
				    "CAP_NET_BIND_SERVICE; see CONFORM_LISTEN)", where);
	if (why == EADDRNOTAVAIL)
		return cf_error_set(err, CF_EIO, NULL,
				    "cannot listen on %s: no interface of this machine has that address "
				    "(see CONFORM_LISTEN)", where);
	if (why)
		return cf_error_set(err, CF_EIO, NULL, "cannot listen on %s: %s", where, strerror(why));
	return cf_error_set(err, CF_EIO, NULL, "cannot listen on %s (see the libmicrohttpd message "
			    "above)", where);
}

cf_err server_start(struct server *srv, const struct config *cfg, struct cf_error *err)
{
	struct sockaddr_storage addr;
	socklen_t addrlen = 0;
	cf_err e = parse_listen(cfg->listen, &addr, &addrlen, err);
	if (e)
		return e;

	srv->cfg = cfg;
	srv->runtime_conninfo = config_runtime_conninfo(cfg);
	srv->blob_root = cf_asprintf("%s/blobs", cfg->data_dir);
	srv->signer_socket = config_signer_socket(cfg);
	atomic_store(&srv->in_flight, 0);
	metrics_init();
	throttle_init(cfg->auth_fail_limit);
	throttle_lodge_init(cfg->complaint_limit);
	e = clientaddr_init(cfg->trusted_proxies, err);
	if (e) {
		cf_error_prefix(err, "CONFORM_TRUSTED_PROXIES");
		return e;
	}
	e = metrics_allow_init(cfg->metrics_allow, err);
	if (e) {
		cf_error_prefix(err, "CONFORM_METRICS_ALLOW");
		return e;
	}
	e = cosigning_init(cfg, err);
	if (e)
		return e;

	long threads = cfg->threads;
	if (threads <= 0) {
		/* a worker spends most of a first read waiting for PostgreSQL:
		 * with one per CPU the CPUs idle while every worker waits */
		threads = sysconf(_SC_NPROCESSORS_ONLN);
		threads = 8 * (threads < 1 ? 1 : threads);
		if (threads > 64)
			threads = 64;
	}
	srv->threads = (unsigned)threads;
	unsigned connections = connection_budget(cfg->connection_limit, threads);
	if (cfg->trusted_proxies[0] && cfg->per_address_connections)
		log_info("behind the trusted proxies every client they forward shares the proxy's "
			 "address: CONFORM_PER_ADDRESS_CONNECTIONS (%ld) caps each proxy's connections",
			 cfg->per_address_connections);
	conntrack_start(cfg->head_timeout, cfg->body_timeout);
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC |
			 MHD_USE_ERROR_LOG;
	if (addr.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	srv->daemon = MHD_start_daemon(
		flags, 0, NULL, NULL, http_on_request, srv,
		MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
		MHD_OPTION_CONNECTION_LIMIT, connections,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cfg->per_address_connections,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)cfg->connection_timeout,
		MHD_OPTION_NOTIFY_CONNECTION, conntrack_notify, NULL,
		MHD_OPTION_NOTIFY_COMPLETED, http_on_completed, srv,
		MHD_OPTION_END);
	if (!srv->daemon) {
		conntrack_stop();
		free(srv->runtime_conninfo);
		srv->runtime_conninfo = NULL;
		CF_FREE(srv->blob_root);
		CF_FREE(srv->signer_socket);
		return listen_failure(cfg->listen, &addr, addrlen, err);
	}
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : 0;
	log_info("listening on %s (port %u, %ld worker threads, at most %u connections, %ld per "
		 "address)", cfg->listen, srv->port, threads, connections, cfg->per_address_connections);
	logsigner_start(srv);
	cosigning_start(srv);
	janitor_start(srv);
	webhooks_start(srv);
	certcache_start(srv, cfg->cert_cache);
	return CF_OK;
}

void server_stop(struct server *srv)
{
	if (!srv->daemon)
		return;
	MHD_socket listener = MHD_quiesce_daemon(srv->daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener);
	long waited_ms = 0, limit_ms = srv->cfg->shutdown_timeout * 1000L;
	int busy;
	while ((busy = atomic_load(&srv->in_flight)) > 0 && waited_ms < limit_ms) {
		struct timespec ts = { 0, 20 * 1000000L };
		nanosleep(&ts, NULL);
		waited_ms += 20;
	}
	if (busy > 0)
		log_warn("stopping with %d requests still in flight after %ld s", busy,
			 srv->cfg->shutdown_timeout);
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
	conntrack_stop();
	cosigning_stop();
	logsigner_stop();
	janitor_stop();
	webhooks_stop();
	certcache_stop();
	workerdb_close_all();
	signer_forget_all();
	free(srv->runtime_conninfo);
	srv->runtime_conninfo = NULL;
	CF_FREE(srv->blob_root);
	CF_FREE(srv->signer_socket);
	log_info("stopped");
}
