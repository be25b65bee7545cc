-- 0018 a certificate's answer, mostly made once. GET /v1/certificates/{serial}
-- for a certificate not in conformd's cache used to join six tables and
-- rebuild the JSON from the credential up; buyers scanning shelves at random
-- make that the common case. What never changes after issuance is rendered
-- here once, when the row is inserted (by the issuer, or by any INSERT
-- through the database's checks); the history is kept beside it as events
-- are added. A miss reads this one row by its key; the status is decided from
-- it and from the keys and accreditation events conformd holds in memory
-- (the same rule as conform_certificate_state, checked against it by
-- tests/integration/test_certstate).

ALTER TABLE certificate
	ADD COLUMN public_part text,
	ADD COLUMN log_leaf text,
	ADD COLUMN jws_sha256 text,
	ADD COLUMN history text NOT NULL DEFAULT '[]';
COMMENT ON COLUMN certificate.public_part IS
	'The members of the certificate''s answer that never change, as one JSON object: serial, '
	'validity, issuer (with the accreditation reference), links. Rendered at insert.';
COMMENT ON COLUMN certificate.log_leaf IS
	'The RFC 9162 leaf hash of the issuance entry (base64), copied at insert.';
COMMENT ON COLUMN certificate.jws_sha256 IS
	'SHA-256 of the compact JWS (hex), as its issuance log entry states it: verification compares '
	'a presented credential with the register''s by this.';
COMMENT ON COLUMN certificate.history IS
	'The certificate''s events as a JSON array, oldest first; kept by a trigger on certificate_event.';

CREATE FUNCTION conform_ts(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS $$
	SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;
COMMENT ON FUNCTION conform_ts(timestamptz) IS
	'RFC 3339 in UTC to the second, as every API answer writes times (DB_TS in core/db.h).';

CREATE FUNCTION conform_certificate_public(c certificate) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT json_build_object(
		'serial', c.serial,
		'valid_from', conform_ts(c.valid_from),
		'valid_until', conform_ts(c.valid_until),
		'issued_at', conform_ts(c.issued_at),
		'issuer', json_build_object('id', c.payload::jsonb #>> '{issuer,id}', 'name', c.issuer_name,
					    'body_id', c.body_id, 'accreditation_reference', a.reference),
		'links', json_build_object('jws', i.public_url || '/v1/certificates/' || c.serial || '/jws',
					   'verify', i.public_url || '/verify/' || c.serial))::text
	FROM accreditation a, service_identity i
	WHERE a.id = c.accreditation_id
$$;

CREATE FUNCTION conform_certificate_history(s text) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT coalesce(json_agg(json_build_object('action', e.action, 'reason_code', e.reason_code,
		'reason', e.reason, 'at', conform_ts(e.at), 'log_index', e.log_index) ORDER BY e.seq), '[]')::text
	FROM certificate_event e WHERE e.serial = s
$$;

CREATE FUNCTION certificate_render() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	NEW.public_part := conform_certificate_public(NEW);
	IF NEW.public_part IS NULL THEN
		RAISE EXCEPTION 'certificate %: no public URL is set, or its accreditation is unknown', NEW.serial;
	END IF;
	SELECT encode(decode(l.leaf_hash, 'hex'), 'base64') INTO NEW.log_leaf
		FROM tlog_entry l WHERE l.idx = NEW.log_index;
	IF NEW.log_leaf IS NULL THEN
		RAISE EXCEPTION 'certificate %: log entry % does not exist', NEW.serial, NEW.log_index;
	END IF;
	NEW.jws_sha256 := encode(sha256(convert_to(NEW.jws, 'UTF8')), 'hex');
	NEW.history := '[]';
	RETURN NEW;
END $$;
CREATE TRIGGER certificate_render BEFORE INSERT ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_render();

-- once per statement, so that a bulk INSERT of events (a restore, the
-- benchmark's register) is one UPDATE rather than one per row
CREATE FUNCTION certificate_history_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	UPDATE certificate c SET history = conform_certificate_history(c.serial)
	WHERE c.serial IN (SELECT DISTINCT serial FROM added);
	RETURN NULL;
END $$;
CREATE TRIGGER certificate_history_keep AFTER INSERT ON certificate_event
	REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION certificate_history_keep();

GRANT UPDATE (history) ON certificate TO conform_app;

-- conformd holds the keys and the accreditation events in memory (server/
-- livestate.c) and loads them again when told: by the database itself, for
-- every change however it is made (the API, conformctl, a restore)
CREATE FUNCTION conform_notify_flush() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('conform_flush', TG_TABLE_NAME);
	RETURN NULL;
END $$;
CREATE TRIGGER signing_key_notify AFTER INSERT OR UPDATE OR DELETE ON signing_key
	FOR EACH STATEMENT EXECUTE FUNCTION conform_notify_flush();
CREATE TRIGGER accreditation_event_notify AFTER INSERT OR UPDATE OR DELETE ON accreditation_event
	FOR EACH STATEMENT EXECUTE FUNCTION conform_notify_flush();

UPDATE certificate c SET public_part = conform_certificate_public(c),
	log_leaf = (SELECT encode(decode(l.leaf_hash, 'hex'), 'base64') FROM tlog_entry l WHERE l.idx = c.log_index),
	jws_sha256 = encode(sha256(convert_to(c.jws, 'UTF8')), 'hex'),
	history = conform_certificate_history(c.serial);
ALTER TABLE certificate ALTER COLUMN public_part SET NOT NULL, ALTER COLUMN log_leaf SET NOT NULL,
	ALTER COLUMN jws_sha256 SET NOT NULL;
