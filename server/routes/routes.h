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

/* schemes.c */
void route_schemes_list(struct request *rq);
void route_scheme_get(struct request *rq);
void route_scheme_version_get(struct request *rq);
void route_scheme_requirements(struct request *rq);
void route_scheme_checklist(struct request *rq);
void route_scheme_oscal(struct request *rq);
void route_crosswalk(struct request *rq);

#endif
