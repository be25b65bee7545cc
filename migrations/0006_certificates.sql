-- 0006 certificates: signing keys (public halves only), certificates and
-- their status history, and the transparency log over issuance and status
-- events with its signed checkpoints. Log entries and checkpoints are
-- append-only; a certificate's signed content never changes, only its
-- status columns may.

CREATE TABLE signing_key (
	kid text PRIMARY KEY CHECK (kid ~ '^[A-Za-z0-9_-]{43}$'),
	org_id uuid REFERENCES organisation (id),
	purpose text NOT NULL CHECK (purpose IN ('certificate', 'log')),
	public_key text NOT NULL CHECK (public_key ~ '^[A-Za-z0-9_-]{43}$'),
	private_key_ref text NOT NULL CHECK (length(private_key_ref) BETWEEN 1 AND 1000),
	created_at timestamptz NOT NULL DEFAULT now(),
	retired_at timestamptz,
	CHECK ((purpose = 'log') = (org_id IS NULL))
);
COMMENT ON TABLE signing_key IS
	'Ed25519 public keys: an assessment body''s certificate keys, and the service''s log key. '
	'kid is the RFC 7638 thumbprint. The private key never enters the database: '
	'private_key_ref says where it is (a PEM file or an OSSL_STORE URI).';
COMMENT ON COLUMN signing_key.retired_at IS
	'No longer used to sign; still published, so that what it signed stays verifiable.';

CREATE SEQUENCE certificate_serial_seq;

CREATE TABLE certificate (
	serial text PRIMARY KEY CHECK (serial ~ '^CF-[0-9]{4}-[0-9]{6,}$'),
	seq bigint NOT NULL UNIQUE,
	application_id uuid NOT NULL UNIQUE REFERENCES application (id),
	body_id uuid NOT NULL REFERENCES organisation (id),
	manufacturer_id uuid NOT NULL REFERENCES organisation (id),
	scheme_id text NOT NULL,
	scheme_version text NOT NULL,
	class integer NOT NULL,
	accreditation_id uuid NOT NULL REFERENCES accreditation (id),
	kid text NOT NULL REFERENCES signing_key (kid),
	valid_from timestamptz NOT NULL,
	valid_until timestamptz NOT NULL CHECK (valid_until > valid_from),
	payload text NOT NULL,
	jws text NOT NULL,
	revocation_index integer NOT NULL,
	suspension_index integer NOT NULL,
	status text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'suspended', 'withdrawn')),
	status_reason_code text,
	status_reason text,
	status_changed_at timestamptz,
	log_index bigint NOT NULL,
	issued_by uuid NOT NULL REFERENCES app_user (id),
	issued_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (body_id, revocation_index),
	UNIQUE (body_id, suspension_index)
);
COMMENT ON TABLE certificate IS
	'Issued certificates: the signed credential (payload, jws) and its live status. '
	'expired is derived from valid_until, never stored.';
CREATE INDEX certificate_register ON certificate (seq);
CREATE INDEX certificate_manufacturer ON certificate (manufacturer_id, seq);

CREATE TABLE certificate_event (
	serial text NOT NULL REFERENCES certificate (serial),
	seq integer NOT NULL,
	action text NOT NULL CHECK (action IN ('issued', 'suspended', 'reinstated', 'withdrawn')),
	reason_code text,
	reason text,
	actor_id uuid REFERENCES app_user (id),
	at timestamptz NOT NULL DEFAULT now(),
	log_index bigint NOT NULL,
	PRIMARY KEY (serial, seq)
);

CREATE TABLE tlog_entry (
	idx bigint PRIMARY KEY CHECK (idx >= 0),
	entry text NOT NULL,
	leaf_hash text NOT NULL CHECK (leaf_hash ~ '^[0-9a-f]{64}$'),
	kind text NOT NULL CHECK (kind IN ('issuance', 'status')),
	serial text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tlog_entry IS
	'The transparency log (RFC 9162 section 2.1): entry idx is leaf idx, its bytes the '
	'canonical JSON in entry; leaf_hash = SHA-256(0x00 || entry). No gaps: appends are '
	'serialised and idx is the last idx + 1.';
CREATE INDEX tlog_entry_serial ON tlog_entry (serial, idx);

CREATE TABLE tlog_checkpoint (
	size bigint PRIMARY KEY CHECK (size > 0),
	root_hash text NOT NULL CHECK (root_hash ~ '^[0-9a-f]{64}$'),
	note text NOT NULL,
	kid text NOT NULL REFERENCES signing_key (kid),
	at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE tlog_checkpoint IS
	'Signed tree heads as C2SP tlog-checkpoint signed notes.';

CREATE TRIGGER certificate_event_immutable BEFORE UPDATE OR DELETE ON certificate_event
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER tlog_entry_immutable BEFORE UPDATE OR DELETE ON tlog_entry
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER tlog_checkpoint_immutable BEFORE UPDATE OR DELETE ON tlog_checkpoint
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

GRANT SELECT, INSERT ON signing_key, certificate, certificate_event, tlog_entry, tlog_checkpoint
	TO conform_app;
GRANT USAGE ON SEQUENCE certificate_serial_seq TO conform_app;
GRANT UPDATE (retired_at) ON signing_key TO conform_app;
GRANT UPDATE (status, status_reason_code, status_reason, status_changed_at) ON certificate
	TO conform_app;

-- Which accreditation covers body for scheme@version at class at time t (the
-- one valid longest, if several): a certificate names it.
CREATE FUNCTION conform_cover(body uuid, scheme text, version text, class integer, t timestamptz)
RETURNS uuid LANGUAGE sql STABLE AS $$
	SELECT a.id FROM accreditation a
	WHERE a.body_id = body AND a.scheme_id = scheme AND a.max_class >= class
	AND a.valid_from <= t AND t < a.valid_until
	AND (a.version_from IS NULL OR conform_version_cmp(a.version_from, version) <= 0)
	AND (a.version_to IS NULL OR conform_version_cmp(version, a.version_to) <= 0)
	AND (SELECT e.action FROM accreditation_event e WHERE e.accreditation_id = a.id
	     AND e.effective_at <= t ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1)
	    IN ('granted', 'reinstated')
	ORDER BY a.valid_until DESC, a.id LIMIT 1
$$;

CREATE OR REPLACE FUNCTION conform_covers(body uuid, scheme text, version text, class integer,
	t timestamptz) RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT conform_cover(body, scheme, version, class, t) IS NOT NULL
$$;
