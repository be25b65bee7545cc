/*
 * janitor: a thread of conformd that runs the evidence janitor
 * (evidence_gc) every janitor-interval seconds. Several conformd may run
 * it: a PostgreSQL advisory lock lets one at a time do the work.
 */
#ifndef CONFORM_JANITOR_H
#define CONFORM_JANITOR_H

struct server;

/* Starts the thread (nothing when the interval is 0). */
void janitor_start(struct server *srv);
void janitor_stop(void);

#endif
