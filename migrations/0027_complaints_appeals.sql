-- 0027 complaints and appeals (ISO/IEC 17065 7.13): a case a body handles.
--
-- * A complaint, lodged by anyone (no account), is about a certificate (by
--   serial) or about an assessment body; the body concerned handles it.
-- * An appeal, lodged by a manufacturer's person, is against a refusal (its
--   decided application, rejected) or a withdrawal of its certificate.
-- * Each case is decided once (upheld or dismissed, with a rationale) by a
--   certifier of the body concerned who was not involved in the original:
--   not an assessor who held or judged the application, not the certifier
--   who decided it, not whoever issued the certificate or changed its status.
--   core/complaint.c checks this before writing; the trigger below holds to
--   it whatever writes the row (ISO/IEC 17065 7.13.1: the persons deciding
--   are not those who carried out the original activities).
-- * due_at is when the decision is due: the schemes set no deadline, so
--   core/complaint.c stores its documented default with each case
--   (docs/complaints.md); a case undecided after it is overdue.

CREATE TABLE complaint_case (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	seq bigserial UNIQUE,
	reference text NOT NULL UNIQUE CHECK (reference ~ '^(CMP|APL)-[0-9A-Z]{10}$'),
	kind text NOT NULL CHECK (kind IN ('complaint', 'appeal')),
	subject text NOT NULL CHECK (subject IN ('certificate', 'body', 'refusal', 'withdrawal')),
	body_id uuid NOT NULL REFERENCES organisation (id),
	serial text REFERENCES certificate (serial),
	application_id uuid REFERENCES application (id),
	text text NOT NULL CHECK (length(text) BETWEEN 1 AND 10000),
	contact text CHECK (length(contact) BETWEEN 1 AND 320),
	lodged_by uuid REFERENCES app_user (id),
	lodged_at timestamptz NOT NULL DEFAULT now(),
	due_at timestamptz NOT NULL CHECK (due_at > lodged_at),
	outcome text CHECK (outcome IN ('upheld', 'dismissed')),
	rationale text CHECK (length(rationale) BETWEEN 1 AND 10000),
	decided_by uuid REFERENCES app_user (id),
	decided_at timestamptz,
	suspended boolean NOT NULL DEFAULT false,
	CHECK ((kind = 'complaint') = (subject IN ('certificate', 'body'))),
	CHECK ((subject IN ('certificate', 'withdrawal')) = (serial IS NOT NULL)),
	CHECK ((subject = 'refusal') = (application_id IS NOT NULL)),
	CHECK ((kind = 'appeal') = (lodged_by IS NOT NULL)),
	CHECK ((outcome IS NULL) = (decided_by IS NULL) AND (outcome IS NULL) = (rationale IS NULL)
	       AND (outcome IS NULL) = (decided_at IS NULL)),
	CHECK (NOT suspended OR (outcome = 'upheld' AND subject = 'certificate'))
);
COMMENT ON TABLE complaint_case IS
	'Complaints (anyone, about a certificate or a body) and appeals (a manufacturer, against a '
	'refusal or a withdrawal), each decided once by a certifier of body_id who was not involved '
	'in the original (ISO/IEC 17065 7.13).';
COMMENT ON COLUMN complaint_case.reference IS
	'What the complainant quotes: random, so that it tells nothing of other cases.';
COMMENT ON COLUMN complaint_case.contact IS
	'How to reach an anonymous complainant (optional); shown to the body''s staff only.';
COMMENT ON COLUMN complaint_case.due_at IS
	'When the decision is due (core/complaint.c''s documented default); undecided after it: overdue.';
COMMENT ON COLUMN complaint_case.suspended IS
	'The upheld complaint suspended its certificate, in the decision''s transaction.';
CREATE INDEX complaint_case_body ON complaint_case (body_id, seq);

-- Whether person took part in what the case is about: the application's
-- assessors (who held it or judged a requirement), its decider, the
-- certificate's issuer and whoever changed the certificate's status.
CREATE FUNCTION conform_case_involved(app uuid, cert text, person uuid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM application a WHERE a.id = app AND a.assessor_id = person)
	    OR EXISTS (SELECT 1 FROM application_event e WHERE e.application_id = app
	               AND (e.assessor_id = person OR (e.action = 'take' AND e.actor_id = person)))
	    OR EXISTS (SELECT 1 FROM review_verdict v WHERE v.application_id = app
	               AND v.assessor_id = person)
	    OR EXISTS (SELECT 1 FROM application_decision d WHERE d.application_id = app
	               AND d.decided_by = person)
	    OR EXISTS (SELECT 1 FROM certificate c WHERE c.serial = cert AND c.issued_by = person)
	    OR EXISTS (SELECT 1 FROM certificate_event ce WHERE ce.serial = cert
	               AND ce.actor_id = person)
$$;

CREATE FUNCTION complaint_case_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	app uuid;
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF OLD.outcome IS NOT NULL THEN
			RAISE EXCEPTION 'case % is decided: its decision stands', OLD.reference;
		END IF;
		IF (NEW.reference, NEW.kind, NEW.subject, NEW.body_id, NEW.serial, NEW.application_id,
		    NEW.text, NEW.contact, NEW.lodged_by, NEW.lodged_at, NEW.due_at)
		   IS DISTINCT FROM (OLD.reference, OLD.kind, OLD.subject, OLD.body_id, OLD.serial,
		    OLD.application_id, OLD.text, OLD.contact, OLD.lodged_by, OLD.lodged_at, OLD.due_at) THEN
			RAISE EXCEPTION 'a case keeps what was lodged; only its decision is recorded';
		END IF;
	END IF;
	IF NEW.decided_by IS NULL THEN
		RETURN NEW;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = NEW.decided_by AND u.active
	               AND u.org_id = NEW.body_id AND 'certifier' = ANY (u.roles)) THEN
		RAISE EXCEPTION 'a case is decided by a certifier of the body concerned';
	END IF;
	app := COALESCE(NEW.application_id,
	                (SELECT c.application_id FROM certificate c WHERE c.serial = NEW.serial));
	IF conform_case_involved(app, NEW.serial, NEW.decided_by) THEN
		RAISE EXCEPTION 'the case is decided by someone not involved in what it is about '
			'(ISO/IEC 17065 7.13)';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER complaint_case_check BEFORE INSERT OR UPDATE ON complaint_case
	FOR EACH ROW EXECUTE FUNCTION complaint_case_check();

GRANT SELECT, INSERT ON complaint_case TO conform_app;
GRANT UPDATE (outcome, rationale, decided_by, decided_at, suspended) ON complaint_case
	TO conform_app;
GRANT USAGE ON SEQUENCE complaint_case_seq_seq TO conform_app;
