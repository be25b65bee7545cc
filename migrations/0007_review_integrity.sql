-- 0007 review integrity: what the database itself refuses, so that a bug in
-- conformd cannot certify material nobody reviewed.
--
-- * A requirement the assessor has settled (its latest verdict is pass, fail
--   or not_applicable) keeps the answer and evidence that were judged: while
--   information is requested the applicant changes only what was asked about
--   (info_needed) or not yet judged.
-- * ISO/IEC 17065 7.5: the assessor who took the application does not decide
--   it, even if they recorded no verdict.
-- * A certificate follows an approved third-party decision, matches its
--   application and names the accreditation that covers its body now.

-- The settled verdict on application app's requirement ref, or NULL if it has
-- none or the assessor asked for information.
CREATE FUNCTION conform_settled(app uuid, requirement text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT v.verdict FROM (SELECT verdict FROM review_verdict
	                       WHERE application_id = app AND ref = requirement
	                       ORDER BY id DESC LIMIT 1) v
	WHERE v.verdict <> 'info_needed'
$$;

CREATE FUNCTION application_answer_settled_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	verdict text := conform_settled(NEW.application_id, NEW.ref);
BEGIN
	IF verdict IS NOT NULL THEN
		RAISE EXCEPTION 'requirement % was judged %: its answer no longer changes', NEW.ref, verdict;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_answer_settled_check BEFORE INSERT OR UPDATE ON application_answer
	FOR EACH ROW EXECUTE FUNCTION application_answer_settled_check();

CREATE FUNCTION evidence_link_settled_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	link evidence_link%ROWTYPE;
	verdict text;
BEGIN
	IF TG_OP = 'DELETE' THEN
		link := OLD;
	ELSE
		link := NEW;
	END IF;
	verdict := conform_settled((SELECT application_id FROM evidence WHERE id = link.evidence_id),
	                           link.ref);
	IF verdict IS NOT NULL THEN
		RAISE EXCEPTION 'requirement % was judged %: its evidence no longer changes', link.ref,
			verdict;
	END IF;
	RETURN link;
END $$;
CREATE TRIGGER evidence_link_settled_check BEFORE INSERT OR DELETE ON evidence_link
	FOR EACH ROW EXECUTE FUNCTION evidence_link_settled_check();

CREATE FUNCTION evidence_supersede_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	settled text;
BEGIN
	SELECT l.ref INTO settled FROM evidence_link l
	WHERE l.evidence_id = OLD.id AND conform_settled(OLD.application_id, l.ref) IS NOT NULL
	ORDER BY l.ref LIMIT 1;
	IF settled IS NOT NULL THEN
		RAISE EXCEPTION 'requirement % was judged: the evidence it was judged on is not superseded',
			settled;
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER evidence_supersede_check BEFORE UPDATE OF superseded_by ON evidence
	FOR EACH ROW WHEN (NEW.superseded_by IS DISTINCT FROM OLD.superseded_by)
	EXECUTE FUNCTION evidence_supersede_check();

CREATE FUNCTION application_decision_independent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF NOT NEW.self_declaration AND EXISTS (SELECT 1 FROM application a
	    WHERE a.id = NEW.application_id AND a.assessor_id = NEW.decided_by) THEN
		RAISE EXCEPTION 'the decision is taken by someone other than the assessor who took the '
			'application (ISO/IEC 17065 7.5)';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_decision_independent BEFORE INSERT ON application_decision
	FOR EACH ROW EXECUTE FUNCTION application_decision_independent();

CREATE FUNCTION certificate_issue_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	a application%ROWTYPE;
	d application_decision%ROWTYPE;
BEGIN
	SELECT * INTO a FROM application WHERE id = NEW.application_id;
	SELECT * INTO d FROM application_decision WHERE application_id = NEW.application_id;
	IF a.state <> 'decided' OR d.decision IS DISTINCT FROM 'approved' OR d.self_declaration THEN
		RAISE EXCEPTION 'a certificate follows a body''s approval of the application';
	END IF;
	IF NEW.body_id IS DISTINCT FROM a.body_id OR NEW.manufacturer_id <> a.manufacturer_id
	   OR NEW.scheme_id <> a.scheme_id OR NEW.scheme_version <> a.scheme_version
	   OR NEW.class <> a.class THEN
		RAISE EXCEPTION 'a certificate states what its application was assessed for';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM app_user u WHERE u.id = NEW.issued_by AND u.active
	               AND u.org_id = a.body_id AND 'certifier' = ANY (u.roles)) THEN
		RAISE EXCEPTION 'a certificate is issued by a certifier of the application''s body';
	END IF;
	IF conform_cover(a.body_id, a.scheme_id, a.scheme_version, a.class, now())
	   IS DISTINCT FROM NEW.accreditation_id THEN
		RAISE EXCEPTION 'a certificate names the accreditation that covers its body now';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificate_issue_check BEFORE INSERT ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_issue_check();
