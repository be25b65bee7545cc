-- 0015 a compromised key in the one definition of a certificate's status.
-- 0011 made conform_certificate_state the one place a certificate's status
-- is decided; 0014 added keys revoked as compromised since a moment. What a
-- key signed at or after its compromise is not the body's statement:
-- 'key_compromised', which wins over every other status, is final (no
-- review, no next change), and is what every surface reads.

DROP FUNCTION conform_certificate_state(certificate, timestamptz);

CREATE FUNCTION conform_certificate_state(c certificate, t timestamptz)
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
	'A certificate''s effective status at t (key_compromised, withdrawn, expired, suspended, valid), '
	'whether it is under review because its accreditation was suspended or withdrawn after issue, '
	'since when, and the next scheduled moment at which this answer changes (NULL: never).';
