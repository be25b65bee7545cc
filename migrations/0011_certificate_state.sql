-- 0011 certificate state: a certificate's effective status at a moment, in
-- one definition that every surface reads (the certificate, verification,
-- the register and its status= filter, the buyer's page, the status lists).
-- Like conform_covers, it is SQL so that a filter over the register and the
-- C code cannot disagree.

-- The certificate's status at t:
--   status        withdrawn (final) > expired (t >= valid_until) > suspended > valid;
--   review        'accreditation_suspended' or 'accreditation_withdrawn' when the
--                 accreditation it was issued under is, at t, suspended or withdrawn
--                 by an event effective after issue, and the certificate is still
--                 valid or suspended (ISO/IEC 17065: a review, not a withdrawal);
--   review_since  when that event took effect;
--   next_change   the first moment after t at which any of the above can change
--                 without anyone acting then: a scheduled accreditation event or
--                 valid_until. NULL when the answer is final. Caches expire there.
-- A new cause of status (a key compromised, say) belongs here, nowhere else.
CREATE FUNCTION conform_certificate_state(c certificate, t timestamptz)
RETURNS TABLE (status text, review text, review_since timestamptz, next_change timestamptz)
LANGUAGE sql STABLE AS $$
	SELECT s.status,
	       CASE WHEN s.status IN ('valid', 'suspended') AND acc.action IN ('suspended', 'withdrawn')
	            AND acc.effective_at > c.issued_at THEN 'accreditation_' || acc.action END,
	       CASE WHEN s.status IN ('valid', 'suspended') AND acc.action IN ('suspended', 'withdrawn')
	            AND acc.effective_at > c.issued_at THEN acc.effective_at END,
	       CASE WHEN s.status IN ('valid', 'suspended') THEN least(c.valid_until, nxt.effective_at) END
	FROM (SELECT CASE WHEN c.status = 'withdrawn' THEN 'withdrawn'
	                  WHEN t >= c.valid_until THEN 'expired' ELSE c.status END AS status) s
	LEFT JOIN LATERAL (
		SELECT e.action, e.effective_at FROM accreditation_event e
		WHERE e.accreditation_id = c.accreditation_id AND e.effective_at <= t
		ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1) acc ON true
	LEFT JOIN LATERAL (
		SELECT min(e.effective_at) AS effective_at FROM accreditation_event e
		WHERE e.accreditation_id = c.accreditation_id AND e.effective_at > t) nxt ON true
$$;
COMMENT ON FUNCTION conform_certificate_state(certificate, timestamptz) IS
	'A certificate''s effective status at t (valid, suspended, withdrawn, expired), whether it is '
	'under review because its accreditation was suspended or withdrawn after issue, since when, '
	'and the next scheduled moment at which this answer changes (NULL: never).';

-- The events of an accreditation are read by time for every certificate read.
CREATE INDEX accreditation_event_effective ON accreditation_event (accreditation_id, effective_at);
