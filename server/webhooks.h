/*
 * webhooks: conformd's webhook delivery threads. They claim due rows of the
 * outbox (core/webhook.h) with FOR UPDATE SKIP LOCKED, so that any number of
 * conformd on one database share the work, POST each with its Standard
 * Webhooks signature to the address its host resolved to (checked against
 * SSRF then, and pinned, so that a second resolution cannot point it
 * elsewhere), and record the outcome; a delivery whose process dies is due
 * again with the same id.
 */
#ifndef CONFORM_WEBHOOKS_H
#define CONFORM_WEBHOOKS_H

struct server;

void webhooks_start(struct server *srv);
void webhooks_stop(void);

#endif
