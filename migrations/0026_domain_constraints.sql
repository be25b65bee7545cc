-- 0026 domain constraints: what only the C code held to, the database holds
-- to as well, so that a bug in conformd, a hand-written fix or a restore
-- cannot store a value no surface knows (issue 16).
--
-- Constrained here:
-- * certificate_reason: the reason codes of a certificate's status change
--   (core/certificate.c reason_codes), a lookup table that
--   certificate.status_reason_code, certificate_event.reason_code and
--   feed_item.reason_code reference. A status change carries a code, an
--   issuance none (certificate_event).
-- * application_action: the actions of an application's history ("create"
--   and the actions of core/application.c's transition table), a lookup
--   table that application_event.action references; the event's from_state
--   and to_state are states of application.state's own CHECK.
-- * certificate.log_index and certificate_event.log_index reference the
--   transparency log (tlog_entry). The issuer writes the certificate with no
--   log position and sets it after the entry (0019), and a status change
--   appends its entry before its event: every entry exists when it is
--   referenced, so the foreign keys are immediate.
-- * certificate (scheme_id, scheme_version) references scheme_version.
-- * webhook_delivery.type is a type of the feed (feed_item's own CHECK, 0022).
--
-- Left free: audit_log.object_type (named at each call site, kept in the
-- hash chain, no list in C to hold it to) and tlog_entry.serial (a serial,
-- a key id or an accreditation id, by kind).
--
-- Rows written before this migration were written through the same C checks
-- (the lists never changed), so every constraint is validated at once; a
-- database with a row that breaks one fails here, naming it, instead of
-- keeping a value no surface knows.

CREATE TABLE certificate_reason (
	code text PRIMARY KEY CHECK (code ~ '^[a-z_]{1,40}$'),
	description text NOT NULL
);
COMMENT ON TABLE certificate_reason IS
	'The reason codes of a certificate status change (suspend, reinstate, withdraw), as '
	'core/certificate.c accepts them; tests/unit/test_constraints.c checks that both lists agree.';
INSERT INTO certificate_reason (code, description) VALUES
	('nonconformity', 'surveillance or a complaint found a nonconformity'),
	('product_change', 'the product changed outside the certified scope'),
	('support_ended', 'the security support period ended'),
	('accreditation_withdrawn', 'the body may no longer certify'),
	('manufacturer_request', 'the manufacturer asked for it'),
	('administrative', 'an administrative reason'),
	('other', 'another reason, stated in the text');

ALTER TABLE certificate ADD CONSTRAINT certificate_status_reason_code_fkey
	FOREIGN KEY (status_reason_code) REFERENCES certificate_reason (code);
ALTER TABLE certificate_event ADD CONSTRAINT certificate_event_reason_code_fkey
	FOREIGN KEY (reason_code) REFERENCES certificate_reason (code);
ALTER TABLE certificate_event ADD CONSTRAINT certificate_event_reason_with_change
	CHECK ((action = 'issued') = (reason_code IS NULL));
ALTER TABLE feed_item ADD CONSTRAINT feed_item_reason_code_fkey
	FOREIGN KEY (reason_code) REFERENCES certificate_reason (code);

CREATE TABLE application_action (
	action text PRIMARY KEY CHECK (action ~ '^[a-z-]{1,40}$')
);
COMMENT ON TABLE application_action IS
	'What an application''s history records: create, and each action of the transition table '
	'in core/application.c; tests/unit/test_constraints.c checks that both lists agree.';
INSERT INTO application_action (action) VALUES ('create'), ('submit'), ('declare'), ('take'),
	('request-info'), ('resubmit'), ('complete'), ('decide'), ('reassign'), ('withdraw');

ALTER TABLE application_event ADD CONSTRAINT application_event_action_fkey
	FOREIGN KEY (action) REFERENCES application_action (action);
ALTER TABLE application_event ADD CONSTRAINT application_event_states_check
	CHECK ((from_state IS NULL OR from_state IN ('draft', 'submitted', 'in_evaluation',
	        'info_requested', 'evaluated', 'decided', 'withdrawn'))
	       AND to_state IN ('draft', 'submitted', 'in_evaluation', 'info_requested', 'evaluated',
	        'decided', 'withdrawn'));

ALTER TABLE certificate ADD CONSTRAINT certificate_log_index_fkey
	FOREIGN KEY (log_index) REFERENCES tlog_entry (idx);
ALTER TABLE certificate_event ADD CONSTRAINT certificate_event_log_index_fkey
	FOREIGN KEY (log_index) REFERENCES tlog_entry (idx);
ALTER TABLE certificate ADD CONSTRAINT certificate_scheme_version_fkey
	FOREIGN KEY (scheme_id, scheme_version) REFERENCES scheme_version (scheme_id, version);

ALTER TABLE webhook_delivery ADD CONSTRAINT webhook_delivery_type_check
	CHECK (type IN ('certificate.issued', 'certificate.suspended', 'certificate.reinstated',
		'certificate.withdrawn', 'key.compromised', 'review.accreditation_suspended',
		'review.accreditation_withdrawn', 'review.accreditation_reinstated'));

GRANT SELECT ON certificate_reason, application_action TO conform_app;
