-- 0017 reassignment: the body's lead hands an application in evaluation to
-- another assessor of the body (the one who took it may have left), and the
-- independence rule of 0007 still holds for everyone who ever held it.
--
-- * application_event.assessor_id: who holds the application after a take
--   or a reassign event (the actor of a reassignment is the lead, not the
--   assessor). Events before this migration are takes, whose actor is the
--   assessor: the guard below reads both.
-- * application.assessor_id only ever names an active assessor of the
--   application's body.
-- * ISO/IEC 17065 7.5: nobody who held the application for evaluation
--   decides it, even after it was reassigned away from them and even if they
--   recorded no verdict (0005 already refuses anyone who recorded a verdict,
--   whoever holds the application now).

ALTER TABLE application_event ADD COLUMN assessor_id uuid REFERENCES app_user (id);
COMMENT ON COLUMN application_event.assessor_id IS
	'The assessor who holds the application after this event (take, reassign); NULL otherwise.';

CREATE FUNCTION application_assessor_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = NEW.assessor_id AND u.active
	               AND u.org_id = NEW.body_id AND 'assessor' = ANY (u.roles)) THEN
		RAISE EXCEPTION 'an application is evaluated by an active assessor of its body';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_assessor_check BEFORE UPDATE OF assessor_id ON application
	FOR EACH ROW WHEN (NEW.assessor_id IS NOT NULL AND NEW.assessor_id IS DISTINCT FROM OLD.assessor_id)
	EXECUTE FUNCTION application_assessor_check();

CREATE OR REPLACE FUNCTION application_decision_independent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT NEW.self_declaration AND (
	    EXISTS (SELECT 1 FROM application a
	            WHERE a.id = NEW.application_id AND a.assessor_id = NEW.decided_by)
	    OR EXISTS (SELECT 1 FROM application_event e WHERE e.application_id = NEW.application_id
	               AND (e.assessor_id = NEW.decided_by
	                    OR (e.action = 'take' AND e.actor_id = NEW.decided_by)))) THEN
		RAISE EXCEPTION 'the decision is taken by someone other than the assessor who took the '
			'application, or held it after a reassignment (ISO/IEC 17065 7.5)';
	END IF;
	RETURN NEW;
END $$;
