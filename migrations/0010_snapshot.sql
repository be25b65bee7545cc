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

-- The database holds to it as well as the C code: past draft, the snapshots
-- never change (json has no equality: compared as text)...
CREATE FUNCTION application_snapshot_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.state <> 'draft' AND
	   (NEW.product_snapshot::text IS DISTINCT FROM OLD.product_snapshot::text OR
	    NEW.manufacturer_snapshot::text IS DISTINCT FROM OLD.manufacturer_snapshot::text) THEN
		RAISE EXCEPTION 'an application past draft keeps the product and manufacturer as '
			'submitted' USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER application_snapshot_frozen BEFORE UPDATE OF product_snapshot,
	manufacturer_snapshot ON application
	FOR EACH ROW EXECUTE FUNCTION application_snapshot_frozen();

-- ...and a certificate states them: its register values and its signed
-- manufacturer and product are the application's snapshots.
CREATE FUNCTION certificate_snapshot_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	a application%ROWTYPE;
	subject json := NEW.payload::json -> 'credentialSubject';
BEGIN
	SELECT * INTO a FROM application WHERE id = NEW.application_id;
	IF a.manufacturer_snapshot IS NULL OR a.product_snapshot IS NULL
	   OR NEW.manufacturer_name IS DISTINCT FROM a.manufacturer_snapshot ->> 'name'
	   OR NEW.product_name IS DISTINCT FROM a.product_snapshot ->> 'name'
	   OR NEW.product_model IS DISTINCT FROM a.product_snapshot ->> 'model'
	   OR NEW.firmware_version IS DISTINCT FROM a.product_snapshot ->> 'firmware_version'
	   OR subject #>> '{manufacturer,name}' IS DISTINCT FROM a.manufacturer_snapshot ->> 'name'
	   OR subject #>> '{manufacturer,vulnerabilityDisclosure,contact}'
	      IS DISTINCT FROM a.manufacturer_snapshot ->> 'security_contact'
	   OR subject #>> '{manufacturer,vulnerabilityDisclosure,policy}'
	      IS DISTINCT FROM a.manufacturer_snapshot ->> 'disclosure_policy_url'
	   OR subject #>> '{product,name}' IS DISTINCT FROM a.product_snapshot ->> 'name'
	   OR subject #>> '{product,model}' IS DISTINCT FROM a.product_snapshot ->> 'model'
	   OR subject #>> '{product,firmwareVersion}'
	      IS DISTINCT FROM a.product_snapshot ->> 'firmware_version' THEN
		RAISE EXCEPTION 'a certificate states the manufacturer and product as submitted'
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER certificate_snapshot_check BEFORE INSERT ON certificate
	FOR EACH ROW EXECUTE FUNCTION certificate_snapshot_check();
