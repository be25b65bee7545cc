-- 0002 audit: the tamper-evident audit trail. Every change, through the API
-- or the CLI, appends one record in the same transaction. Each record's hash
-- covers its canonical form, which includes the previous record's hash, so
-- that `conformctl audit verify` detects an edited or deleted record. The
-- runtime role may only read and append.

CREATE TABLE audit_log (
	seq bigint PRIMARY KEY CHECK (seq > 0),
	at timestamptz NOT NULL,
	actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'cli', 'system')),
	actor_id text NOT NULL,
	actor_org uuid,
	action text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
	object_type text NOT NULL,
	object_id text NOT NULL,
	details jsonb NOT NULL DEFAULT '{}'::jsonb,
	prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
	hash text NOT NULL UNIQUE CHECK (hash ~ '^[0-9a-f]{64}$')
);

COMMENT ON TABLE audit_log IS
	'Append-only, hash-chained record of every change (who, when, what). seq has no gaps: '
	'appends are serialised by an advisory transaction lock and seq is the last seq + 1.';
COMMENT ON COLUMN audit_log.actor_id IS
	'A user id for API calls, the operating-system user for conformctl, or a component name.';
COMMENT ON COLUMN audit_log.details IS 'What changed; never a secret (token, passphrase, key).';
COMMENT ON COLUMN audit_log.prev_hash IS 'hash of record seq - 1; 64 zeros for the first record.';
COMMENT ON COLUMN audit_log.hash IS
	'SHA-256 (hex) of the canonical JSON of the record (all columns above, prev_hash included).';

CREATE INDEX audit_log_object ON audit_log (object_type, object_id, seq);
CREATE INDEX audit_log_actor ON audit_log (actor_id, seq);

GRANT SELECT, INSERT ON audit_log TO conform_app;
