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

/* parties.c */
void route_me(struct request *rq);
void route_org_create(struct request *rq);
void route_org_list(struct request *rq);
void route_org_get(struct request *rq);
void route_org_update(struct request *rq);
void route_user_create(struct request *rq);
void route_user_list(struct request *rq);
void route_user_get(struct request *rq);
void route_user_update(struct request *rq);
void route_token_create(struct request *rq);
void route_token_list(struct request *rq);
void route_token_revoke(struct request *rq);

/* keys.c */
void route_key_create(struct request *rq);
void route_key_list(struct request *rq);
void route_key_retire(struct request *rq);
void route_key_revoke(struct request *rq);

/* accreditations.c */
void route_acc_grant(struct request *rq);
void route_acc_list(struct request *rq);
void route_acc_get(struct request *rq);
void route_acc_suspend(struct request *rq);
void route_acc_reinstate(struct request *rq);
void route_acc_withdraw(struct request *rq);
void route_bodies_list(struct request *rq);
void route_body_get(struct request *rq);

/* products.c */
void route_product_create(struct request *rq);
void route_product_list(struct request *rq);
void route_product_get(struct request *rq);
void route_product_update(struct request *rq);

/* applications.c */
void route_app_create(struct request *rq);
void route_app_list(struct request *rq);
void route_app_get(struct request *rq);
void route_app_oscal(struct request *rq);
void route_app_update(struct request *rq);
void route_app_answer(struct request *rq);
void route_app_action(struct request *rq);
void route_app_verdicts(struct request *rq);
void route_app_verdict_history(struct request *rq);
void route_evidence_precheck(struct request *rq);
void route_evidence_upload(struct request *rq);
void route_evidence_list(struct request *rq);
void route_evidence_get(struct request *rq);
void route_evidence_delete(struct request *rq);

/* ics.c */
void route_app_ics_get(struct request *rq);
void route_app_ics_put(struct request *rq);

/* certificates.c */
void route_cert_issue(struct request *rq);
void route_cert_get(struct request *rq);
void route_cert_jws(struct request *rq);
void route_cert_suspend(struct request *rq);
void route_cert_reinstate(struct request *rq);
void route_cert_withdraw(struct request *rq);
void route_cert_register(struct request *rq);
void route_verify(struct request *rq);
void route_jwks(struct request *rq);
void route_did(struct request *rq);
void route_status_list(struct request *rq);
void route_cert_bundle(struct request *rq);
void route_context(struct request *rq);
void route_schema(struct request *rq);
void route_register_export(struct request *rq);

/* log.c */
void route_log_tree_head(struct request *rq);
void route_log_checkpoint(struct request *rq);
void route_log_vkey(struct request *rq);
void route_log_entries(struct request *rq);
void route_log_inclusion(struct request *rq);
void route_log_consistency(struct request *rq);
void route_tiles_checkpoint(struct request *rq);
void route_tiles_tile(struct request *rq);
void route_tiles_entries(struct request *rq);

/* labels.c: the QR label and the status badge of a certificate */
void route_cert_qr(struct request *rq);
void route_cert_badge(struct request *rq);

/* coverage.c: a certificate's coverage of another scheme version */
void route_cert_coverage(struct request *rq);
void route_app_coverage(struct request *rq);

/* verify_page.c */
void route_verify_page(struct request *rq);

/* gs1.c: the GS1 Digital Link resolver and the shelf check */
void route_gs1_resolve(struct request *rq);
void route_shelf_check(struct request *rq);

/* register_csv.c: the register as CSV for market surveillance */
void route_register_csv(struct request *rq);

/* audit.c */
void route_audit_list(struct request *rq);

/* webhooks.c: the change feed and webhook subscriptions */
void route_feed(struct request *rq);
void route_webhook_create(struct request *rq);
void route_webhook_list(struct request *rq);
void route_webhook_delete(struct request *rq);
void route_webhook_deliveries(struct request *rq);
void route_webhook_replay(struct request *rq);

/* complaints.c */
void route_complaint_lodge(struct request *rq);
void route_appeal_lodge(struct request *rq);
void route_case_list(struct request *rq);
void route_case_get(struct request *rq);
void route_case_decide(struct request *rq);

#endif
