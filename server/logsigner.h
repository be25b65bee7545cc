/*
 * logsigner: a thread of conformd that signs a new checkpoint of the
 * transparency log within a second of its growth, with the service's log
 * key. Several conformd may run it: one checkpoint per size is kept.
 */
#ifndef CONFORM_LOGSIGNER_H
#define CONFORM_LOGSIGNER_H

struct server;

void logsigner_start(struct server *srv);
void logsigner_stop(void);

#endif
