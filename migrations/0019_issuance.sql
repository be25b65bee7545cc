-- 0019: issuance with a short serialisation point.
--
-- Issuers of every body wait for each other from the transparency log's lock
-- to their commit: the log is gap-free and in commit order. What used to sit
-- inside that stretch, or behind a lock of its own, now runs beside other
-- issuers: (1) status list positions are claimed row by row; (2) the
-- certificate row is written before the log lock, without its log position,
-- which is set once the entry is appended.
--
-- (1) Status list positions.
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

-- (2) A certificate's log position, set after the row. Inserting the
-- certificate runs its checks (0007, 0010), renders its answer (0018) and
-- compresses its credential: the costliest statement of an issue, and one
-- that needs no order among issuers. The issuer writes the row first with no
-- log position, appends the log entry under the lock, then sets the position
-- once: NULL to the index of an issuance entry of that serial. A deferred
-- check refuses to commit a certificate that has none, so no committed
-- certificate ever lacks it and every reader keeps reading it as before.
ALTER TABLE certificate ALTER COLUMN log_index DROP NOT NULL,
	ALTER COLUMN log_leaf DROP NOT NULL;

CREATE OR REPLACE FUNCTION certificate_render() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.public_part := conform_certificate_public(NEW);
	IF NEW.public_part IS NULL THEN
		RAISE EXCEPTION 'certificate %: no public URL is set, or its accreditation is unknown', NEW.serial;
	END IF;
	NEW.log_leaf := NULL;
	IF NEW.log_index IS NOT NULL THEN -- a bulk load knows it; an issuer sets it later
		SELECT encode(decode(l.leaf_hash, 'hex'), 'base64') INTO NEW.log_leaf
			FROM tlog_entry l WHERE l.idx = NEW.log_index;
		IF NEW.log_leaf IS NULL THEN
			RAISE EXCEPTION 'certificate %: log entry % does not exist', NEW.serial, NEW.log_index;
		END IF;
	END IF;
	NEW.jws_sha256 := encode(sha256(convert_to(NEW.jws, 'UTF8')), 'hex');
	NEW.history := '[]';
	RETURN NEW;
END $$;

CREATE FUNCTION certificate_log_position() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.log_index IS NOT NULL THEN
		RAISE EXCEPTION 'certificate %: its log position % is fixed', OLD.serial, OLD.log_index
			USING ERRCODE = 'check_violation';
	END IF;
	SELECT encode(decode(l.leaf_hash, 'hex'), 'base64') INTO NEW.log_leaf
		FROM tlog_entry l
		WHERE l.idx = NEW.log_index AND l.kind = 'issuance' AND l.serial = NEW.serial;
	IF NEW.log_leaf IS NULL THEN
		RAISE EXCEPTION 'certificate %: log entry % is not its issuance', NEW.serial, NEW.log_index
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificate_log_position BEFORE UPDATE OF log_index ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_log_position();

CREATE FUNCTION certificate_logged() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM certificate c WHERE c.serial = NEW.serial
	           AND (c.log_index IS NULL OR c.log_leaf IS NULL)) THEN
		RAISE EXCEPTION 'certificate %: not in the transparency log', NEW.serial
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER certificate_logged AFTER INSERT ON certificate
	DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION certificate_logged();

GRANT UPDATE (log_index) ON certificate TO conform_app;

-- (3) The serialised stretch in one call. From the log lock to commit every
-- issuer waits; each round trip between conformd and the database inside it
-- is paid by all of them. This function takes the log's lock and the audit
-- trail's (the numbers core/tlog.c and core/audit.c use, in their order),
-- appends the issuance entry (the next index, read after the lock: a
-- VOLATILE function's statements each see what committed before them), sets
-- the certificate's log position, records its "issued" event and returns
-- the audit trail's head, from which conformd chains the audit record:
-- two statements and the commit where there were eight.
CREATE FUNCTION conform_issue_logged(p_serial text, p_entry text, p_leaf_hash text,
	p_actor uuid, OUT log_index bigint, OUT audit_seq bigint, OUT audit_hash text)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(1953263463);   -- "tlog": core/tlog.c
	PERFORM pg_advisory_xact_lock(418581342580); -- "audit": core/audit.c
	INSERT INTO tlog_entry (idx, entry, leaf_hash, kind, serial)
		SELECT coalesce(max(idx) + 1, 0), p_entry, p_leaf_hash, 'issuance', p_serial FROM tlog_entry
		RETURNING idx INTO log_index;
	UPDATE certificate SET log_index = conform_issue_logged.log_index WHERE serial = p_serial;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'certificate %: not written before its log entry', p_serial;
	END IF;
	INSERT INTO certificate_event (serial, seq, action, actor_id, log_index)
		VALUES (p_serial, 1, 'issued', p_actor, conform_issue_logged.log_index);
	SELECT a.seq, a.hash INTO audit_seq, audit_hash FROM audit_log a ORDER BY a.seq DESC LIMIT 1;
END $$;
COMMENT ON FUNCTION conform_issue_logged(text, text, text, uuid) IS
	'Issuance''s serialised stretch in one call (core/certificate.c issue_tx): takes the log and '
	'audit locks, appends the issuance log entry, sets the certificate''s log position, records '
	'its issued event; returns the log index and the audit trail''s head.';
GRANT EXECUTE ON FUNCTION conform_issue_logged(text, text, text, uuid) TO conform_app;
