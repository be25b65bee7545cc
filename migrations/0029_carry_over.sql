-- 0029 carry-over and change applications (issue 17): an application may
-- start from a certificate of its manufacturer, and the settled verdicts
-- behind that certificate are offered to its assessor, who accepts each
-- offer or reviews the requirement anew.
--
-- * application.carried_from: the certificate whose application's settled
--   verdicts are offered. Within one scheme version each requirement offers
--   its own verdict (pass, fail or not_applicable); into another scheme,
--   only a requirement the crosswalk covers soundly is offered, as a pass
--   (the rule of core/coverage.h).
-- * application.supersedes: a change application (a new firmware or
--   hardware version of the certified product). It carries from the
--   certificate it will replace (same product, same scheme version), starts
--   with that application's answers and evidence, and says what changed
--   (change_description, and the requirements the manufacturer declares
--   changed). When its certificate is issued, the old one is superseded.
-- * carry_offer: what is offered, per target requirement, with the settled
--   verdicts it comes from (origins, each naming its verdict's id).
-- * review_verdict.carried_from: a verdict the assessor recorded by
--   accepting an offer names the origin verdict. The trigger below holds to
--   what core/carry.c checks first: the verdict is the offer's, from one of
--   its origins, and the requirement has not changed since, so that no
--   carried verdict stands on an answer or evidence nobody judged.

ALTER TABLE application
	ADD COLUMN carried_from text REFERENCES certificate (serial),
	ADD COLUMN supersedes text REFERENCES certificate (serial),
	ADD COLUMN change_description text CHECK (length(change_description) BETWEEN 1 AND 4000),
	ADD COLUMN change_requirements text[] NOT NULL DEFAULT '{}',
	ADD CONSTRAINT application_change_described
		CHECK ((supersedes IS NULL) = (change_description IS NULL)
		       AND (supersedes IS NOT NULL OR change_requirements = '{}')),
	ADD CONSTRAINT application_change_carries
		CHECK (supersedes IS NULL OR carried_from = supersedes);
COMMENT ON COLUMN application.carried_from IS
	'The certificate whose settled verdicts are offered to this application''s assessor.';
COMMENT ON COLUMN application.supersedes IS
	'A change application: the certificate its own certificate supersedes.';
COMMENT ON COLUMN application.change_requirements IS
	'A change application: the requirements its manufacturer declared changed.';

-- The carry is written once, by the creation's own transaction, right after
-- the insert (core/carry.c: a plain creation writes the columns it always
-- did), and never changes afterwards.
CREATE FUNCTION application_carry_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.carried_from IS NOT NULL OR OLD.version <> 1 OR OLD.state <> 'draft' THEN
		RAISE EXCEPTION 'an application''s carry is set once, when it is created';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_carry_once
	BEFORE UPDATE OF carried_from, supersedes, change_description, change_requirements
	ON application FOR EACH ROW EXECUTE FUNCTION application_carry_once();

-- A change application stays with the body that issued the certificate it
-- supersedes (its certificate changes that body's statement): at creation
-- and through any later change of body.
CREATE FUNCTION application_change_body() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.body_id IS DISTINCT FROM (SELECT body_id FROM certificate WHERE serial = NEW.supersedes) THEN
		RAISE EXCEPTION 'a change application goes to the body that issued %', NEW.supersedes;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_change_body BEFORE UPDATE OF body_id, supersedes ON application
	FOR EACH ROW WHEN (NEW.supersedes IS NOT NULL) EXECUTE FUNCTION application_change_body();

-- One open change application at a time per certificate: a second one
-- waits until the first is withdrawn or decided (core/carry.c says so
-- first; an approved one supersedes the certificate when it is issued).
CREATE UNIQUE INDEX application_one_change ON application (supersedes)
	WHERE supersedes IS NOT NULL AND state NOT IN ('withdrawn', 'decided');

CREATE TABLE carry_offer (
	application_id uuid NOT NULL REFERENCES application (id),
	ref text NOT NULL,
	verdict text NOT NULL CHECK (verdict IN ('pass', 'fail', 'not_applicable')),
	origins jsonb NOT NULL CHECK (jsonb_typeof(origins) = 'array' AND jsonb_array_length(origins) > 0),
	PRIMARY KEY (application_id, ref)
);
COMMENT ON TABLE carry_offer IS
	'A settled verdict offered to an application''s assessor: per requirement, the verdict and '
	'its origins [{ref, verdict, verdict_id, relationship, declared_by}] in the application of '
	'application.carried_from.';
CREATE TRIGGER carry_offer_immutable BEFORE UPDATE OR DELETE ON carry_offer
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

ALTER TABLE review_verdict ADD COLUMN carried_from bigint REFERENCES review_verdict (id);
COMMENT ON COLUMN review_verdict.carried_from IS
	'Set when the assessor accepted a carried verdict: the origin verdict it carries.';

-- The current verdict says whether it was carried (a column added last, as
-- CREATE OR REPLACE VIEW allows).
CREATE OR REPLACE VIEW current_verdict AS
	SELECT v.application_id, v.ref, v.verdict, v.comment, v.assessor_id, v.recorded_at, v.id,
	       v.carried_from
	FROM review_verdict v
	WHERE NOT EXISTS (SELECT 1 FROM review_verdict later
	                  WHERE later.application_id = v.application_id AND later.ref = v.ref
	                  AND later.id > v.id);

-- Why requirement ref of change application app cannot carry its old
-- verdict, or NULL when it can: 'declared' (the manufacturer said it
-- changed), 'answer' (its answer differs from the one judged before) or
-- 'evidence' (the digests of its current evidence differ). An application
-- that carries across scheme versions compares nothing: its answers are to
-- other requirements, and its assessor judges each offer.
CREATE FUNCTION conform_carry_changed(app uuid, requirement text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT CASE
		WHEN requirement = ANY (a.change_requirements) THEN 'declared'
		WHEN a.scheme_id <> c.scheme_id OR a.scheme_version <> c.scheme_version THEN NULL
		WHEN (SELECT row(n.statement, n.text, n.justification) FROM application_answer n
		      WHERE n.application_id = a.id AND n.ref = requirement)
		     IS DISTINCT FROM
		     (SELECT row(p.statement, p.text, p.justification) FROM application_answer p
		      WHERE p.application_id = c.application_id AND p.ref = requirement) THEN 'answer'
		WHEN (SELECT coalesce(array_agg(DISTINCT e.digest ORDER BY e.digest), '{}')
		      FROM evidence e JOIN evidence_link l ON l.evidence_id = e.id
		      WHERE e.application_id = a.id AND e.superseded_by IS NULL AND l.ref = requirement)
		     IS DISTINCT FROM
		     (SELECT coalesce(array_agg(DISTINCT e.digest ORDER BY e.digest), '{}')
		      FROM evidence e JOIN evidence_link l ON l.evidence_id = e.id
		      WHERE e.application_id = c.application_id AND e.superseded_by IS NULL
		      AND l.ref = requirement) THEN 'evidence'
	END
	FROM carry_offer o JOIN application a ON a.id = o.application_id
	JOIN certificate c ON c.serial = a.carried_from
	WHERE o.application_id = app AND o.ref = requirement
$$;
COMMENT ON FUNCTION conform_carry_changed(uuid, text) IS
	'Why a carried verdict cannot be accepted for the requirement (declared, answer, evidence), '
	'or NULL when it can.';

CREATE FUNCTION review_verdict_carry_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	o carry_offer%ROWTYPE;
	changed text;
BEGIN
	SELECT * INTO o FROM carry_offer WHERE application_id = NEW.application_id AND ref = NEW.ref;
	IF NOT FOUND OR o.verdict <> NEW.verdict OR NOT EXISTS (
	   SELECT 1 FROM jsonb_array_elements(o.origins) x
	   WHERE (x->>'verdict_id')::bigint = NEW.carried_from) THEN
		RAISE EXCEPTION 'requirement % carries only the verdict offered to it, from its origin',
			NEW.ref;
	END IF;
	changed := conform_carry_changed(NEW.application_id, NEW.ref);
	IF changed IS NOT NULL THEN
		RAISE EXCEPTION 'requirement % changed (%) since it was judged: it is reviewed anew',
			NEW.ref, changed;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER review_verdict_carry_check BEFORE INSERT ON review_verdict
	FOR EACH ROW WHEN (NEW.carried_from IS NOT NULL)
	EXECUTE FUNCTION review_verdict_carry_check();


-- Withdrawn and superseded are final (0006, 0028): core/certificate.c
-- refuses any change from them; the database does too.
CREATE FUNCTION certificate_status_final() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.status IN ('withdrawn', 'superseded') AND (NEW.status IS DISTINCT FROM OLD.status
	   OR NEW.superseded_by IS DISTINCT FROM OLD.superseded_by) THEN
		RAISE EXCEPTION 'certificate % is %: that status is final', OLD.serial, OLD.status;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificate_status_final BEFORE UPDATE OF status, superseded_by ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_status_final();

GRANT SELECT, INSERT ON carry_offer TO conform_app;
GRANT UPDATE (carried_from, supersedes, change_description, change_requirements) ON application
	TO conform_app;
