-- 0009 idempotency keys: a creation repeated with the same Idempotency-Key
-- (a client retrying after a lost response) answers what the first one did
-- instead of creating twice. The key is recorded in the creation's own
-- transaction, so a key exists exactly when its creation does. Kept for a
-- day; a key is a person's own (two people may use the same one).

CREATE TABLE idempotency_key (
	user_id uuid NOT NULL REFERENCES app_user (id),
	key text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
	fingerprint text NOT NULL CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
	status integer NOT NULL CHECK (status BETWEEN 200 AND 299),
	headers jsonb NOT NULL DEFAULT '{}'::jsonb,
	response text NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (user_id, key)
);
COMMENT ON TABLE idempotency_key IS
	'The answer to a creation made with an Idempotency-Key: its status, headers and body, '
	'and the SHA-256 fingerprint of the request (method, path, query and body) that a '
	'repeat must match.';
CREATE INDEX idempotency_key_age ON idempotency_key (created_at);

GRANT SELECT, INSERT, DELETE ON idempotency_key TO conform_app;
GRANT UPDATE (fingerprint, status, headers, response) ON idempotency_key TO conform_app;
