-- 0025 current verdict: "the current verdict on a requirement" written once.
-- review_verdict is an append-only history; what counts is the latest row per
-- (application, requirement). Every reader (the checklist, the transition
-- guards, the decision, the settled-requirement triggers of 0007) takes it
-- from this view instead of writing the ORDER BY id DESC LIMIT 1 out again.
--
-- "Latest" is written as "no later row for the same application and
-- requirement" rather than DISTINCT ON or ORDER BY id DESC LIMIT 1: a plain
-- view that the planner flattens into the query using it, so a filter or a
-- join on application_id and ref becomes an Index Cond on
-- review_verdict_current (application_id, ref, id), and "no later row" an
-- index probe on the same index. One requirement, one application, or the
-- checklist's per-requirement join all read only the rows concerned, with no
-- sort (a DISTINCT ON view is not flattened: in a join it would sort the
-- application's whole history once per requirement). tests/unit/test_review.c
-- checks the plans on a realistic history.
CREATE VIEW current_verdict AS
	SELECT v.application_id, v.ref, v.verdict, v.comment, v.assessor_id, v.recorded_at, v.id
	FROM review_verdict v
	WHERE NOT EXISTS (SELECT 1 FROM review_verdict later
	                  WHERE later.application_id = v.application_id AND later.ref = v.ref
	                  AND later.id > v.id);
COMMENT ON VIEW current_verdict IS
	'The current verdict on each requirement of each application: its latest review_verdict '
	'row (the history stays in review_verdict).';
GRANT SELECT ON current_verdict TO conform_app;

-- The settled verdict on application app's requirement ref, or NULL if it has
-- none or the assessor asked for information: now read from current_verdict.
CREATE OR REPLACE FUNCTION conform_settled(app uuid, requirement text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT verdict FROM current_verdict
	WHERE application_id = app AND ref = requirement AND verdict <> 'info_needed'
$$;
