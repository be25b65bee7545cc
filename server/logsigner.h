/*
 * logsigner: a thread of conformd that signs a new checkpoint of the
 * transparency log within a second of its growth, with the service's log
 * key.
 *
 * Several conformd may serve one database; exactly one of them signs at a
 * time. The thread holds a PostgreSQL session advisory lock
 * ("conform.logsigner") on a connection of its own and signs through that
 * connection only. The others try the lock every LOGSIGNER_RETRY_MS; when
 * the holder dies, its session ends, the lock is free, and one of them
 * takes over within about that time. The lock only spares the others the
 * work: were two ever to sign at once (a holder cut off from the database
 * whose session the server has ended), the log still keeps one checkpoint
 * per size.
 */
#ifndef CONFORM_LOGSIGNER_H
#define CONFORM_LOGSIGNER_H

#include <stdbool.h>

#define LOGSIGNER_RETRY_MS 1000

struct server;

void logsigner_start(struct server *srv);
void logsigner_stop(void);

/* Whether this process holds the signing lock now (for metrics). */
bool logsigner_holding(void);

#endif
