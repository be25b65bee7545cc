-- 0019: status list positions claimed one row at a time.
--
-- Issuance used to hand out a body's status list positions under a lock of
-- the body, held to commit, after reading every position the body had used
-- (one row per certificate: slower with every certificate issued). A claim
-- is now one row of its own: the issuer draws a random position and inserts
-- its claim; the primary key makes a second claim of the same position wait
-- for the first transaction and then fail, so the issuer draws again. No
-- lock of the body, no read of its certificates.

CREATE TABLE status_index_claim (
	body_id uuid NOT NULL REFERENCES organisation (id),
	purpose text NOT NULL CHECK (purpose IN ('revocation', 'suspension')),
	idx integer NOT NULL CHECK (idx >= 0 AND idx < 131072),
	PRIMARY KEY (body_id, purpose, idx)
);
COMMENT ON TABLE status_index_claim IS
	'The status list positions each body has handed out (W3C Bitstring Status List, 131,072 '
	'positions per list), one row per position and purpose. Issuance claims a random free '
	'position here before it signs; every certificate''s positions are also claimed by a '
	'trigger, so a certificate written any other way is covered too. Never deleted: a '
	'position is not reused.';
COMMENT ON COLUMN status_index_claim.purpose IS 'The status list: revocation or suspension.';

INSERT INTO status_index_claim (body_id, purpose, idx)
SELECT body_id, 'revocation', revocation_index FROM certificate
UNION ALL
SELECT body_id, 'suspension', suspension_index FROM certificate;

-- A certificate's positions are claimed with it, whoever writes it: the
-- issuer has claimed them already (nothing to do), a bulk load has not.
CREATE FUNCTION conform_claim_status_index() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO status_index_claim (body_id, purpose, idx)
	VALUES (NEW.body_id, 'revocation', NEW.revocation_index),
	       (NEW.body_id, 'suspension', NEW.suspension_index)
	ON CONFLICT DO NOTHING;
	RETURN NEW;
END $$;
CREATE TRIGGER certificate_claim_status_index BEFORE INSERT ON certificate
	FOR EACH ROW EXECUTE FUNCTION conform_claim_status_index();

CREATE TRIGGER status_index_claim_immutable BEFORE UPDATE OR DELETE ON status_index_claim
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

GRANT SELECT, INSERT ON status_index_claim TO conform_app;
