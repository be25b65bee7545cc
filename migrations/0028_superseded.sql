-- 0028 superseded: a certificate replaced by a newer one of the same product
-- (delta recertification, issue 17). When the certificate of a change
-- application is issued, the certificate it replaces is superseded by it:
-- a final status of its own, not a withdrawal (nothing was found wrong; a
-- newer version of the product was certified). Set only by supersession
-- (core/certificate.c certificate_supersede), in the transaction that
-- issues the successor, never through the suspend/reinstate/withdraw routes.
--
-- (1) certificate.status gains 'superseded', with superseded_by naming the
--     successor exactly when it is; certificate_event.action likewise.
-- (2) certificate_reason gains 'superseded': the reason code a status change
--     carries (0026), used by supersession alone.
-- (3) conform_certificate_state: key_compromised > withdrawn > superseded >
--     expired > suspended > valid; superseded is final (no review, no next
--     change), like withdrawn.
-- (4) the feed: a status entry whose status is superseded is the item type
--     certificate.superseded (feed_item and webhook_delivery alike).

ALTER TABLE certificate DROP CONSTRAINT certificate_status_check;
ALTER TABLE certificate ADD CONSTRAINT certificate_status_check
	CHECK (status IN ('valid', 'suspended', 'withdrawn', 'superseded'));
ALTER TABLE certificate ADD COLUMN superseded_by text REFERENCES certificate (serial);
ALTER TABLE certificate ADD CONSTRAINT certificate_superseded_by_check
	CHECK ((status = 'superseded') = (superseded_by IS NOT NULL) AND superseded_by IS DISTINCT FROM serial);
COMMENT ON COLUMN certificate.superseded_by IS
	'The certificate that supersedes this one (its successor for a newer version of the product); '
	'set exactly when status is superseded.';

ALTER TABLE certificate_event DROP CONSTRAINT certificate_event_action_check;
ALTER TABLE certificate_event ADD CONSTRAINT certificate_event_action_check
	CHECK (action IN ('issued', 'suspended', 'reinstated', 'withdrawn', 'superseded'));

INSERT INTO certificate_reason (code, description) VALUES
	('superseded', 'a newer certificate of the product replaces it (set only by supersession)');

GRANT UPDATE (superseded_by) ON certificate TO conform_app;

CREATE OR REPLACE FUNCTION conform_certificate_state(c certificate, t timestamptz)
RETURNS TABLE (status text, review text, review_since timestamptz, next_change timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT s.status,
	       CASE WHEN s.status IN ('valid', 'suspended') AND acc.action IN ('suspended', 'withdrawn')
	            AND acc.effective_at > c.issued_at THEN 'accreditation_' || acc.action END,
	       CASE WHEN s.status IN ('valid', 'suspended') AND acc.action IN ('suspended', 'withdrawn')
	            AND acc.effective_at > c.issued_at THEN acc.effective_at END,
	       CASE WHEN s.status IN ('valid', 'suspended') THEN least(c.valid_until, nxt.effective_at) END
	FROM (SELECT CASE WHEN k.compromised_since IS NOT NULL AND c.issued_at >= k.compromised_since
	                       THEN 'key_compromised'
	                  WHEN c.status = 'withdrawn' THEN 'withdrawn'
	                  WHEN c.status = 'superseded' THEN 'superseded'
	                  WHEN t >= c.valid_until THEN 'expired' ELSE c.status END AS status
	      FROM signing_key k WHERE k.kid = c.kid) s
	LEFT JOIN LATERAL (
		SELECT e.action, e.effective_at FROM accreditation_event e
		WHERE e.accreditation_id = c.accreditation_id AND e.effective_at <= t
		ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1) acc ON true
	LEFT JOIN LATERAL (
		SELECT min(e.effective_at) AS effective_at FROM accreditation_event e
		WHERE e.accreditation_id = c.accreditation_id AND e.effective_at > t) nxt ON true
$$;
COMMENT ON FUNCTION conform_certificate_state(certificate, timestamptz) IS
	'A certificate''s effective status at t (key_compromised, withdrawn, superseded, expired, '
	'suspended, valid), whether it is under review because its accreditation was suspended or '
	'withdrawn after issue, since when, and the next scheduled moment at which this answer '
	'changes (NULL: never).';

ALTER TABLE feed_item DROP CONSTRAINT feed_item_type_check;
ALTER TABLE feed_item ADD CONSTRAINT feed_item_type_check
	CHECK (type IN ('certificate.issued', 'certificate.suspended', 'certificate.reinstated',
		'certificate.withdrawn', 'certificate.superseded', 'key.compromised',
		'review.accreditation_suspended', 'review.accreditation_withdrawn',
		'review.accreditation_reinstated'));
ALTER TABLE webhook_delivery DROP CONSTRAINT webhook_delivery_type_check;
ALTER TABLE webhook_delivery ADD CONSTRAINT webhook_delivery_type_check
	CHECK (type IN ('certificate.issued', 'certificate.suspended', 'certificate.reinstated',
		'certificate.withdrawn', 'certificate.superseded', 'key.compromised',
		'review.accreditation_suspended', 'review.accreditation_withdrawn',
		'review.accreditation_reinstated'));

-- As 0022's, with the status entry of a supersession typed for what it is.
CREATE OR REPLACE FUNCTION conform_feed_row(l tlog_entry) RETURNS feed_item LANGUAGE plpgsql STABLE AS $$
DECLARE
	e jsonb := l.entry::jsonb;
	r feed_item;
BEGIN
	r.idx := l.idx;
	r.at := coalesce(e->>'at', to_char(l.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'));
	IF l.kind = 'review' THEN
		r.type := 'review.accreditation_' || (e->>'action');
		r.accreditation_id := l.serial::uuid;
		SELECT a.body_id, a.scheme_id INTO r.body_id, r.scheme_id FROM accreditation a
		 WHERE a.id = l.serial::uuid;
		RETURN r;
	END IF;
	IF l.kind = 'key' THEN
		r.type := 'key.compromised';
		r.kid := l.serial;
		SELECT k.org_id INTO r.body_id FROM signing_key k WHERE k.kid = l.serial;
		RETURN r;
	END IF;
	r.type := CASE WHEN l.kind = 'issuance' THEN 'certificate.issued'
	               WHEN e->>'status' = 'suspended' THEN 'certificate.suspended'
	               WHEN e->>'status' = 'valid' THEN 'certificate.reinstated'
	               WHEN e->>'status' = 'superseded' THEN 'certificate.superseded'
	               ELSE 'certificate.withdrawn' END;
	r.serial := l.serial;
	r.reason_code := e->>'reason_code';
	SELECT c.kid, c.body_id, c.manufacturer_id, c.scheme_id, c.scheme_version
	  INTO r.kid, r.body_id, r.manufacturer_id, r.scheme_id, r.scheme_version
	  FROM certificate c WHERE c.serial = l.serial;
	RETURN r;
END $$;
