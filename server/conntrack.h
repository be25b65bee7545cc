/*
 * conntrack: deadlines on what a client sends, which libmicrohttpd 0.9.x does
 * not have. Its MHD_OPTION_CONNECTION_TIMEOUT counts idle time only, so a
 * client that sends one header line every few seconds holds a connection
 * for ever (slowloris). conntrack follows every connection (through
 * MHD_OPTION_NOTIFY_CONNECTION) and a reaper thread closes one that has not
 *
 *   - received its whole request head within head_timeout seconds of the
 *     connection's start or of the end of its previous request (so a
 *     kept-alive connection may also stay idle that long, no longer), or
 *   - received each CONNTRACK_BODY_CHUNK bytes of its body (or the rest of
 *     it) within body_timeout seconds of the head or of the chunk before.
 *
 * The reaper never touches libmicrohttpd's connection: it shuts the socket
 * down (shutdown(2), not close: the descriptor stays libmicrohttpd's), which
 * libmicrohttpd's own thread then sees as the client going away, and closes
 * and frees as usual. A connection whose request is being handled or
 * answered is never reaped.
 */
#ifndef CONFORM_CONNTRACK_H
#define CONFORM_CONNTRACK_H

#include <stddef.h>

#include <microhttpd.h>

/* The body must progress by this much per body_timeout. */
#define CONNTRACK_BODY_CHUNK (64 * 1024)

/* Starts the reaper. Call before the daemon starts. */
void conntrack_start(long head_timeout, long body_timeout);

/* Stops the reaper. Call after the daemon has stopped. */
void conntrack_stop(void);

/* The MHD_OPTION_NOTIFY_CONNECTION callback (cls unused). */
void conntrack_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
		      enum MHD_ConnectionNotificationCode code);

/* From the access handler: the head of a request is complete (its body, if
 * any, comes next); n bytes of the body arrived; the request is being
 * handled or answered (no deadline until it completes). */
void conntrack_head_received(struct MHD_Connection *conn);
void conntrack_body_received(struct MHD_Connection *conn, size_t n);
void conntrack_busy(struct MHD_Connection *conn);

/* From the completion callback: the request is over; the next one's head
 * (on a kept-alive connection) has head_timeout from now. */
void conntrack_request_done(struct MHD_Connection *conn);

/* Connections closed by a deadline since start (for logs and tests). */
unsigned long conntrack_reaped(void);

#endif
