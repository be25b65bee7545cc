-- 0022: the change feed and its webhooks (issue 14).
--
-- Every transparency log entry is a change a buyer, retailer or regulator
-- may want pushed to them: an issuance, a status change (suspension,
-- reinstatement, withdrawal) or a signing key revoked as compromised. The
-- feed is the log itself: an item's position IS its log index, so a
-- consumer proves it missed nothing by checking that the indexes it holds
-- are contiguous up to a signed checkpoint's size.
--
-- (1) feed_item: what a consumer filters on (body, manufacturer, scheme,
-- serial), written by a trigger on tlog_entry in the appending transaction,
-- so that no writer of the log can forget it.
-- (2) webhook_subscription: an organisation's subscriptions with filters.
-- (3) webhook_delivery: the outbox. The same trigger writes one row per
-- matching subscription, in the same transaction as the change: a change
-- that commits has its deliveries, one that rolls back has none. conformd's
-- delivery threads claim rows with FOR UPDATE SKIP LOCKED.
-- (4) webhook_attempt: every attempt of a delivery, for the API.

-- (0) A suspended or withdrawn accreditation puts the certificates issued
-- under it before then under review, and a reinstatement ends it: the log
-- records it (kind 'review', with the accreditation's id in place of a
-- serial), as it records certificate status changes.
ALTER TABLE tlog_entry DROP CONSTRAINT tlog_entry_kind_check;
ALTER TABLE tlog_entry ADD CONSTRAINT tlog_entry_kind_check
	CHECK (kind IN ('issuance', 'status', 'key', 'review'));

CREATE TABLE feed_item (
	idx bigint PRIMARY KEY REFERENCES tlog_entry (idx),
	type text NOT NULL CHECK (type IN ('certificate.issued', 'certificate.suspended',
		'certificate.reinstated', 'certificate.withdrawn', 'key.compromised',
		'review.accreditation_suspended', 'review.accreditation_withdrawn',
		'review.accreditation_reinstated')),
	serial text,
	accreditation_id uuid,
	kid text,
	reason_code text,
	at text NOT NULL,
	body_id uuid,
	manufacturer_id uuid,
	scheme_id text,
	scheme_version text
);
COMMENT ON TABLE feed_item IS
	'The change feed: one row per transparency log entry (idx = log index), with what '
	'subscribers filter on. Written by a trigger on tlog_entry.';
COMMENT ON COLUMN feed_item.serial IS 'The certificate''s serial; NULL for a key event.';
COMMENT ON COLUMN feed_item.accreditation_id IS
	'The accreditation of a review event (its certificates issued before effective_at).';
COMMENT ON COLUMN feed_item.kid IS 'The signing key: the certificate''s, or the compromised one.';
COMMENT ON COLUMN feed_item.at IS 'The time the log entry states (RFC 3339 UTC, as in the entry).';
COMMENT ON COLUMN feed_item.body_id IS 'The assessment body: the issuer, or the key''s holder.';
CREATE INDEX feed_item_body ON feed_item (body_id, idx);
CREATE INDEX feed_item_manufacturer ON feed_item (manufacturer_id, idx);
CREATE INDEX feed_item_scheme ON feed_item (scheme_id, idx);
CREATE INDEX feed_item_serial ON feed_item (serial, idx);

CREATE TABLE webhook_subscription (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	org_id uuid NOT NULL REFERENCES organisation (id),
	url text NOT NULL CHECK (length(url) BETWEEN 8 AND 500),
	secret text NOT NULL CHECK (secret ~ '^whsec_[A-Za-z0-9+/]+=*$'),
	body_id uuid,
	manufacturer_id uuid,
	scheme_id text CHECK (length(scheme_id) <= 100),
	serial text CHECK (length(serial) <= 40),
	created_by uuid REFERENCES app_user (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	deleted_at timestamptz
);
COMMENT ON TABLE webhook_subscription IS
	'An organisation''s webhook: where feed items matching its filters (NULL: any) are '
	'delivered, signed per Standard Webhooks with secret. A deleted one is kept for its '
	'deliveries'' history.';
COMMENT ON COLUMN webhook_subscription.secret IS
	'whsec_ + base64 of 32 random bytes: the HMAC-SHA256 key (decoded). Shown once, at creation.';
CREATE INDEX webhook_subscription_org ON webhook_subscription (org_id, created_at, id);

CREATE TABLE webhook_delivery (
	id text PRIMARY KEY CHECK (id ~ '^msg_[0-9a-f]{32}$'),
	subscription_id uuid NOT NULL REFERENCES webhook_subscription (id),
	log_index bigint NOT NULL REFERENCES tlog_entry (idx),
	type text NOT NULL,
	payload text NOT NULL,
	status text NOT NULL DEFAULT 'pending'
		CHECK (status IN ('pending', 'delivered', 'failed', 'cancelled')),
	attempts integer NOT NULL DEFAULT 0,
	next_attempt_at timestamptz NOT NULL DEFAULT now(),
	since timestamptz NOT NULL DEFAULT now(),
	created_at timestamptz NOT NULL DEFAULT now(),
	delivered_at timestamptz,
	last_http_status integer,
	last_error text,
	UNIQUE (subscription_id, log_index)
);
COMMENT ON TABLE webhook_delivery IS
	'The webhook outbox: one row per (subscription, feed item), written in the transaction '
	'of the change. id is the webhook-id, the same on every attempt and replay.';
COMMENT ON COLUMN webhook_delivery.payload IS 'The request body, fixed at creation (signed per attempt).';
COMMENT ON COLUMN webhook_delivery.since IS
	'Start of the current retry window (creation, or the last replay): retries stop '
	'webhook-retry-for seconds after it.';
CREATE INDEX webhook_delivery_due ON webhook_delivery (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_delivery_subscription ON webhook_delivery (subscription_id, log_index);

CREATE TABLE webhook_attempt (
	delivery_id text NOT NULL REFERENCES webhook_delivery (id),
	n integer NOT NULL CHECK (n >= 1),
	at timestamptz NOT NULL DEFAULT now(),
	http_status integer,
	error text,
	duration_ms integer,
	PRIMARY KEY (delivery_id, n)
);
COMMENT ON TABLE webhook_attempt IS 'Every attempt to deliver a webhook, and its outcome.';
CREATE TRIGGER webhook_attempt_immutable BEFORE UPDATE OR DELETE ON webhook_attempt
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER feed_item_immutable BEFORE UPDATE OR DELETE ON feed_item
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

-- A log entry's feed item, from the entry and what it names.
CREATE FUNCTION conform_feed_row(l tlog_entry) RETURNS feed_item LANGUAGE plpgsql STABLE AS $$
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
	               ELSE 'certificate.withdrawn' END;
	r.serial := l.serial;
	r.reason_code := e->>'reason_code';
	SELECT c.kid, c.body_id, c.manufacturer_id, c.scheme_id, c.scheme_version
	  INTO r.kid, r.body_id, r.manufacturer_id, r.scheme_id, r.scheme_version
	  FROM certificate c WHERE c.serial = l.serial;
	RETURN r;
END $$;

-- A feed item as JSON: what GET /v1/feed lists and a webhook's data.
CREATE FUNCTION conform_feed_json(f feed_item, l tlog_entry) RETURNS jsonb LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('log_index', f.idx, 'type', f.type, 'serial', f.serial, 'kid', f.kid,
		'accreditation', f.accreditation_id,
		'reason_code', f.reason_code, 'at', f.at, 'body', f.body_id,
		'manufacturer', f.manufacturer_id, 'scheme', f.scheme_id,
		'scheme_version', f.scheme_version, 'entry', l.entry, 'leaf_hash', l.leaf_hash)
$$;

INSERT INTO feed_item SELECT (conform_feed_row(l)).* FROM tlog_entry l ORDER BY l.idx;

-- Runs in the appending transaction: the feed item, then one delivery per
-- matching live subscription. A key event goes to subscriptions that do not
-- narrow by manufacturer, scheme or serial (it concerns every certificate
-- the key signed since its compromise; the item names the key); a review
-- event to those that do not narrow by manufacturer or serial.
CREATE FUNCTION conform_feed_append() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	f feed_item := conform_feed_row(NEW);
	item jsonb;
BEGIN
	INSERT INTO feed_item VALUES (f.*);
	item := conform_feed_json(f, NEW);
	INSERT INTO webhook_delivery (id, subscription_id, log_index, type, payload)
	SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), s.id, NEW.idx, f.type,
	       jsonb_build_object('type', f.type, 'timestamp', f.at, 'data', item)::text
	  FROM webhook_subscription s
	 WHERE s.deleted_at IS NULL
	   AND (s.body_id IS NULL OR s.body_id = f.body_id)
	   AND (s.manufacturer_id IS NULL OR s.manufacturer_id = f.manufacturer_id)
	   AND (s.scheme_id IS NULL OR s.scheme_id = f.scheme_id)
	   AND (s.serial IS NULL OR s.serial = f.serial);
	RETURN NULL;
END $$;
CREATE TRIGGER tlog_entry_feed AFTER INSERT ON tlog_entry
	FOR EACH ROW EXECUTE FUNCTION conform_feed_append();

GRANT SELECT, INSERT ON feed_item, webhook_attempt TO conform_app;
GRANT SELECT, INSERT ON webhook_subscription, webhook_delivery TO conform_app;
GRANT UPDATE (deleted_at) ON webhook_subscription TO conform_app;
GRANT UPDATE (status, attempts, next_attempt_at, since, delivered_at, last_http_status, last_error)
	ON webhook_delivery TO conform_app;
