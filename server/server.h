/*
 * server: the life of conformd's HTTP service: start the libmicrohttpd
 * daemon with an internal epoll thread pool, and stop it gracefully (stop
 * accepting, let in-flight requests finish, close the worker connections).
 */
#ifndef CONFORM_SERVER_H
#define CONFORM_SERVER_H

#include <stdatomic.h>

#include "config.h"
#include "error.h"

struct MHD_Daemon;

struct server {
	const struct config *cfg;
	char *runtime_conninfo;
	char *blob_root;         /* data_dir/blobs */
	char *signer_socket;     /* conform-signer, which alone holds private keys */
	struct MHD_Daemon *daemon;
	unsigned short port;     /* the bound port */
	atomic_int in_flight;    /* requests begun and not completed */
	unsigned threads;        /* worker threads, each with its database connection */
};

/* Starts serving cfg->listen. The server borrows cfg. */
cf_err server_start(struct server *srv, const struct config *cfg, struct cf_error *err) CF_MUST_CHECK;

/* Stops accepting, waits up to cfg->shutdown_timeout seconds for in-flight
 * requests, then stops the daemon and closes the database connections. */
void server_stop(struct server *srv);

#endif
