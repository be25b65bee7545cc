-- 0014 one issuer identity, and compromised keys.
--
-- The public URL is the issuer identity: every issuer DID (did:web), key id,
-- certificate id, status list and context URL is made from it, so it is one
-- fact of the deployment, kept here and read by conformd and conformctl
-- alike, never changed (docs/operations.md says why and what to do instead).
--
-- A signing key revoked as compromised since T: certificates it signed at or
-- after T verify as "key compromised", earlier ones stay valid; the
-- revocation is an entry of the transparency log.

CREATE TABLE service_identity (
	one boolean PRIMARY KEY DEFAULT true CHECK (one),
	public_url text NOT NULL CHECK (public_url ~ '^https?://[^/?#]+(/[^?#]*)?$'
		AND length(public_url) <= 200 AND public_url !~ '/$'),
	set_at timestamptz NOT NULL DEFAULT now(),
	set_by text NOT NULL CHECK (length(set_by) BETWEEN 1 AND 200)
);
COMMENT ON TABLE service_identity IS
	'The one public URL of this service (at most one row, never updated): issuer DIDs, key ids, '
	'certificate and status list URLs are made from it. Stored at conformd''s first start, or by '
	'conformctl identity set.';
COMMENT ON COLUMN service_identity.set_by IS
	'What stored it: "conformd (CONFORM_PUBLIC_URL)", "conformd (listen address)", '
	'"conformctl identity set" or "migration 0014 (issued certificates)".';

-- A database that already issued certificates keeps the identity they name:
-- a certificate's id is <public URL>/v1/certificates/<serial>.
INSERT INTO service_identity (public_url, set_by)
SELECT regexp_replace(payload::jsonb ->> 'id', '/v1/certificates/[^/]+$', ''),
	'migration 0014 (issued certificates)'
FROM certificate WHERE payload::jsonb ->> 'id' ~ '^https?://[^/?#]+(/[^?#]*)?/v1/certificates/[^/]+$'
ORDER BY seq LIMIT 1;

CREATE TRIGGER service_identity_immutable BEFORE UPDATE OR DELETE ON service_identity
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
GRANT SELECT, INSERT ON service_identity TO conform_app;

ALTER TABLE signing_key
	ADD COLUMN compromised_since timestamptz,
	ADD COLUMN compromised_at timestamptz,
	ADD CONSTRAINT signing_key_compromise_whole
		CHECK ((compromised_since IS NULL) = (compromised_at IS NULL)),
	ADD CONSTRAINT signing_key_compromise_retires
		CHECK (compromised_at IS NULL OR retired_at IS NOT NULL),
	ADD CONSTRAINT signing_key_compromise_past CHECK (compromised_since <= compromised_at);
COMMENT ON COLUMN signing_key.compromised_since IS
	'The key is compromised from this time: what it signed at or after it is not the body''s. '
	'Set once (conformctl key revoke --compromised --since T), with compromised_at, the time '
	'it was declared; a compromised key is retired too.';
GRANT UPDATE (compromised_since, compromised_at) ON signing_key TO conform_app;

-- The log records key revocations too: kind 'key', with the key id in place
-- of a serial.
ALTER TABLE tlog_entry DROP CONSTRAINT tlog_entry_kind_check;
ALTER TABLE tlog_entry ADD CONSTRAINT tlog_entry_kind_check
	CHECK (kind IN ('issuance', 'status', 'key'));
