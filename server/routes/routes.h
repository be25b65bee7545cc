/*
 * routes: the handlers of the route table, one file per resource.
 */
#ifndef CONFORM_ROUTES_H
#define CONFORM_ROUTES_H

struct request;

/* system.c */
void route_health(struct request *rq);
void route_ready(struct request *rq);
void route_metrics(struct request *rq);
void route_openapi(struct request *rq);

#endif
