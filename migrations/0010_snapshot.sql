-- 0010 snapshot: what is signed is what was assessed. An application keeps
-- the manufacturer as it was when it left draft (identity and vulnerability
-- disclosure), beside the product snapshot it already kept; issuance signs
-- those snapshots and never reads the live organisation or product. A
-- certificate row keeps what its credential says of the manufacturer,
-- product and issuer, so that the register lists and searches the
-- certificate's own values, not the organisation's current ones.

ALTER TABLE application ADD COLUMN manufacturer_snapshot json;
COMMENT ON COLUMN application.manufacturer_snapshot IS
	'The manufacturer as it was when the application left draft (submitted or declared): '
	'id, name, country, contact, address, website and vulnerability disclosure. What the '
	'certificate states; a later change to the organisation does not touch it.';
GRANT UPDATE (manufacturer_snapshot) ON application TO conform_app;

-- Applications already past draft: the organisation as it is now is the best
-- record there is of what was submitted.
UPDATE application a SET manufacturer_snapshot = json_build_object('id', m.id, 'name', m.name,
	'country', m.country, 'contact_email', m.contact_email, 'contact_phone', m.contact_phone,
	'address', m.address, 'website', m.website, 'security_contact', m.security_contact,
	'disclosure_policy_url', m.disclosure_policy_url, 'response_days', m.response_days)
	FROM organisation m WHERE m.id = a.manufacturer_id AND a.state <> 'draft';

ALTER TABLE certificate
	ADD COLUMN manufacturer_name text,
	ADD COLUMN product_name text,
	ADD COLUMN product_model text,
	ADD COLUMN firmware_version text,
	ADD COLUMN issuer_name text;
-- Earlier certificates: what their signed payload says.
UPDATE certificate SET
	manufacturer_name = payload::json #>> '{credentialSubject,manufacturer,name}',
	product_name = payload::json #>> '{credentialSubject,product,name}',
	product_model = payload::json #>> '{credentialSubject,product,model}',
	firmware_version = payload::json #>> '{credentialSubject,product,firmwareVersion}',
	issuer_name = payload::json #>> '{issuer,name}';
ALTER TABLE certificate
	ALTER COLUMN manufacturer_name SET NOT NULL,
	ALTER COLUMN product_name SET NOT NULL,
	ALTER COLUMN product_model SET NOT NULL,
	ALTER COLUMN firmware_version SET NOT NULL,
	ALTER COLUMN issuer_name SET NOT NULL;
COMMENT ON COLUMN certificate.manufacturer_name IS
	'As the signed credential states it (the snapshot at submission): the register shows and '
	'searches this, never the organisation''s current name. Likewise product_name, '
	'product_model, firmware_version and issuer_name.';
