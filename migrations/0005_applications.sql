-- 0005 applications: products, applications and their state, answers,
-- evidence, the assessor's verdicts and the certification decision.
-- Verdicts, events and decisions are append-only. The decision is checked
-- by the database as well as by C: a certifier of the application's body
-- who recorded no verdict on it, and a body whose accreditation covers the
-- scheme version and class at the moment of the decision.

CREATE TABLE product (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	manufacturer_id uuid NOT NULL REFERENCES organisation (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	model text NOT NULL CHECK (length(model) BETWEEN 1 AND 200),
	hardware_version text NOT NULL CHECK (length(hardware_version) BETWEEN 1 AND 100),
	firmware_version text NOT NULL CHECK (length(firmware_version) BETWEEN 1 AND 100),
	description text CHECK (length(description) <= 4000),
	product_page text CHECK (length(product_page) <= 500),
	gtin text CHECK (gtin ~ '^[0-9]{8,14}$'),
	support_end date NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE product IS 'A manufacturer''s product, as applied for (model, hardware and firmware).';
COMMENT ON COLUMN product.support_end IS
	'End of the security support period (UK PSTI): certificates never outlast it.';
CREATE INDEX product_manufacturer ON product (manufacturer_id, created_at);

CREATE TABLE application (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	number bigserial UNIQUE,
	product_id uuid NOT NULL REFERENCES product (id),
	manufacturer_id uuid NOT NULL REFERENCES organisation (id),
	scheme_id text NOT NULL,
	scheme_version text NOT NULL,
	confidentiality security_level,
	integrity security_level,
	availability security_level,
	class integer NOT NULL CHECK (class BETWEEN 0 AND 9),
	assessment_type text NOT NULL CHECK (assessment_type IN ('self', 'third-party')),
	body_id uuid REFERENCES organisation (id),
	owners json NOT NULL DEFAULT '{}',
	state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'submitted', 'in_evaluation',
		'info_requested', 'evaluated', 'decided', 'withdrawn')),
	version integer NOT NULL DEFAULT 1,
	assessor_id uuid REFERENCES app_user (id),
	product_snapshot json,
	created_by uuid NOT NULL REFERENCES app_user (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	submitted_at timestamptz,
	FOREIGN KEY (scheme_id, scheme_version) REFERENCES scheme_version,
	CHECK ((assessment_type = 'self') = (body_id IS NULL)),
	CHECK ((confidentiality IS NULL) = (integrity IS NULL) AND
	       (integrity IS NULL) = (availability IS NULL))
);
COMMENT ON TABLE application IS
	'An application for certification of a product against a scheme version at a class. '
	'state follows the table of core/application.c; version is the ETag, bumped by every change.';
COMMENT ON COLUMN application.owners IS
	'The person or role owning each keyword group of the checklist: {"Software": "...", ...}.';
COMMENT ON COLUMN application.product_snapshot IS
	'The product as it was when submitted (or declared): what the certificate states.';
CREATE INDEX application_manufacturer ON application (manufacturer_id, number);
CREATE INDEX application_body ON application (body_id, number) WHERE body_id IS NOT NULL;

CREATE TABLE application_event (
	application_id uuid NOT NULL REFERENCES application (id),
	seq integer NOT NULL,
	action text NOT NULL,
	from_state text,
	to_state text NOT NULL,
	actor_id uuid REFERENCES app_user (id),
	message text,
	at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (application_id, seq)
);
COMMENT ON TABLE application_event IS
	'Each transition of an application, with who made it and what they said (questions, '
	'answers, a rationale).';

CREATE TABLE application_answer (
	application_id uuid NOT NULL REFERENCES application (id),
	ref text NOT NULL,
	statement text NOT NULL CHECK (statement IN ('compliant', 'not_applicable', 'not_compliant')),
	text text NOT NULL CHECK (length(text) BETWEEN 1 AND 20000),
	justification text CHECK (length(justification) <= 20000),
	answered_by uuid NOT NULL REFERENCES app_user (id),
	answered_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (application_id, ref),
	CHECK (statement <> 'not_applicable' OR justification IS NOT NULL)
);
COMMENT ON TABLE application_answer IS
	'The applicant''s statement per requirement; not applicable needs a justification.';

CREATE TABLE evidence (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	application_id uuid NOT NULL REFERENCES application (id),
	digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	media_type text NOT NULL CHECK (length(media_type) BETWEEN 3 AND 200),
	size bigint NOT NULL CHECK (size >= 0),
	uploaded_by uuid NOT NULL REFERENCES app_user (id),
	uploaded_at timestamptz NOT NULL DEFAULT now(),
	superseded_by uuid REFERENCES evidence (id),
	superseded_at timestamptz
);
COMMENT ON TABLE evidence IS
	'A file given as evidence; its content is in the blob store under its SHA-256 (stored '
	'once, whoever uploads it). Never deleted after submission: superseded instead.';
CREATE INDEX evidence_application ON evidence (application_id, uploaded_at);

CREATE TABLE evidence_link (
	evidence_id uuid NOT NULL REFERENCES evidence (id),
	ref text NOT NULL,
	PRIMARY KEY (evidence_id, ref)
);

CREATE TABLE review_verdict (
	id bigserial PRIMARY KEY,
	application_id uuid NOT NULL REFERENCES application (id),
	ref text NOT NULL,
	verdict text NOT NULL CHECK (verdict IN ('pass', 'fail', 'not_applicable', 'info_needed')),
	comment text CHECK (length(comment) <= 20000),
	assessor_id uuid NOT NULL REFERENCES app_user (id),
	recorded_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE review_verdict IS
	'Every verdict an assessor recorded (append-only); the current one per requirement is the '
	'latest.';
CREATE INDEX review_verdict_current ON review_verdict (application_id, ref, id);

CREATE TABLE application_decision (
	application_id uuid PRIMARY KEY REFERENCES application (id),
	decision text NOT NULL CHECK (decision IN ('approved', 'rejected')),
	rationale text NOT NULL CHECK (length(rationale) BETWEEN 1 AND 20000),
	decided_by uuid REFERENCES app_user (id),
	decided_at timestamptz NOT NULL DEFAULT now(),
	evidence_digest text NOT NULL CHECK (evidence_digest ~ '^[0-9a-f]{64}$'),
	self_declaration boolean NOT NULL
);
COMMENT ON TABLE application_decision IS
	'The certification decision (ISO/IEC 17065 7.6), or the manufacturer''s own declaration. '
	'evidence_digest is the SHA-256 over the evidence set the decision was based on.';

-- ISO/IEC 17065 7.5: the decision is taken by someone who did not evaluate;
-- and no certificate may come from a body without accreditation cover.
CREATE FUNCTION application_decision_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	a application%ROWTYPE;
BEGIN
	SELECT * INTO a FROM application WHERE id = NEW.application_id;
	IF NEW.self_declaration THEN
		IF a.assessment_type <> 'self' THEN
			RAISE EXCEPTION 'a third-party application is decided by its body';
		END IF;
		RETURN NEW;
	END IF;
	IF a.assessment_type <> 'third-party' OR a.body_id IS NULL THEN
		RAISE EXCEPTION 'a self declaration has no body decision';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = NEW.decided_by AND u.active
	               AND u.org_id = a.body_id AND 'certifier' = ANY (u.roles)) THEN
		RAISE EXCEPTION 'the decision is taken by a certifier of the application''s body';
	END IF;
	IF EXISTS (SELECT 1 FROM review_verdict v WHERE v.application_id = NEW.application_id
	           AND v.assessor_id = NEW.decided_by) THEN
		RAISE EXCEPTION 'the decision is taken by someone who recorded no verdict on the '
			'application (ISO/IEC 17065 7.5)';
	END IF;
	IF NOT conform_covers(a.body_id, a.scheme_id, a.scheme_version, a.class, NEW.decided_at) THEN
		RAISE EXCEPTION 'the body''s accreditation does not cover %@% class % at %',
			a.scheme_id, a.scheme_version, a.class, NEW.decided_at;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_decision_check BEFORE INSERT ON application_decision
	FOR EACH ROW EXECUTE FUNCTION application_decision_check();

CREATE TRIGGER review_verdict_immutable BEFORE UPDATE OR DELETE ON review_verdict
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER application_event_immutable BEFORE UPDATE OR DELETE ON application_event
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER application_decision_immutable BEFORE UPDATE OR DELETE ON application_decision
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

GRANT SELECT, INSERT ON product, application, application_event, application_answer, evidence,
	evidence_link, review_verdict, application_decision TO conform_app;
GRANT USAGE ON SEQUENCE application_number_seq, review_verdict_id_seq TO conform_app;
GRANT UPDATE (name, model, hardware_version, firmware_version, description, product_page, gtin,
	support_end, updated_at) ON product TO conform_app;
GRANT UPDATE (owners, body_id, state, version, assessor_id, product_snapshot, updated_at,
	submitted_at) ON application TO conform_app;
GRANT UPDATE (statement, text, justification, answered_by, answered_at) ON application_answer
	TO conform_app;
GRANT UPDATE (superseded_by, superseded_at) ON evidence TO conform_app;
-- Evidence may be deleted while the application is a draft, never after (checked in C).
GRANT DELETE ON evidence, evidence_link TO conform_app;

CREATE FUNCTION evidence_delete_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF (SELECT state FROM application WHERE id = OLD.application_id) <> 'draft' THEN
		RAISE EXCEPTION 'evidence is never deleted once the application is submitted: '
			'supersede it instead';
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER evidence_delete BEFORE DELETE ON evidence
	FOR EACH ROW EXECUTE FUNCTION evidence_delete_check();
