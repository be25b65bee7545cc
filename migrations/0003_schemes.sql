-- 0003 schemes: imported scheme versions and their requirements as rows.
-- An imported version is immutable: the runtime role may only read and
-- insert, and a trigger refuses UPDATE and DELETE to every role. A changed
-- scheme is a new version.

CREATE TYPE security_level AS ENUM ('basic', 'medium', 'high');

CREATE FUNCTION conform_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% rows are immutable once written', TG_TABLE_NAME
		USING ERRCODE = 'raise_exception';
END $$;
COMMENT ON FUNCTION conform_immutable() IS
	'Trigger function that refuses UPDATE and DELETE on append-only tables.';

CREATE TABLE scheme (
	id text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9-]{1,62}$'),
	created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE scheme IS 'A conformity scheme, whatever its versions (dcms-cop, iotsf-cf, ...).';

CREATE TABLE scheme_version (
	scheme_id text NOT NULL REFERENCES scheme (id),
	version text NOT NULL CHECK (version ~ '^[0-9A-Za-z][0-9A-Za-z.+-]{0,31}$'),
	title text NOT NULL,
	publisher text NOT NULL,
	source_document text NOT NULL,
	source_date text NOT NULL,
	source_url text,
	coverage text,
	notes text,
	certificate_validity_days integer NOT NULL CHECK (certificate_validity_days BETWEEN 1 AND 3650),
	highest_class integer NOT NULL CHECK (highest_class BETWEEN 0 AND 9),
	keywords json NOT NULL,
	guidance_sources json NOT NULL,
	document text NOT NULL,
	digest text NOT NULL CHECK (digest ~ '^[0-9a-f]{64}$'),
	imported_at timestamptz NOT NULL DEFAULT now(),
	imported_by text NOT NULL,
	PRIMARY KEY (scheme_id, version)
);
COMMENT ON TABLE scheme_version IS 'One imported, immutable version of a scheme.';
COMMENT ON COLUMN scheme_version.document IS
	'The scheme file as imported, in canonical JSON (keyword case normalised, "$schema" removed).';
COMMENT ON COLUMN scheme_version.digest IS 'SHA-256 (hex) of document: the version''s identity.';
COMMENT ON COLUMN scheme_version.highest_class IS
	'The highest compliance class; 0 for a scheme without classes (one implicit class 0).';

CREATE TABLE scheme_class (
	scheme_id text NOT NULL,
	version text NOT NULL,
	class integer NOT NULL CHECK (class BETWEEN 0 AND 9),
	confidentiality security_level NOT NULL,
	integrity security_level NOT NULL,
	availability security_level NOT NULL,
	description text NOT NULL,
	PRIMARY KEY (scheme_id, version, class),
	FOREIGN KEY (scheme_id, version) REFERENCES scheme_version
);
COMMENT ON TABLE scheme_class IS
	'Compliance classes and their security objectives. A scheme without rows here has one '
	'implicit class 0.';

CREATE TABLE scheme_section (
	scheme_id text NOT NULL,
	version text NOT NULL,
	section_id text NOT NULL,
	position integer NOT NULL,
	title text NOT NULL,
	audience text,
	PRIMARY KEY (scheme_id, version, section_id),
	UNIQUE (scheme_id, version, position),
	FOREIGN KEY (scheme_id, version) REFERENCES scheme_version
);

CREATE TABLE requirement (
	scheme_id text NOT NULL,
	version text NOT NULL,
	ref text NOT NULL,
	position integer NOT NULL,
	section_id text NOT NULL,
	title text NOT NULL,
	primary_keywords text[] NOT NULL,
	secondary_keywords text[] NOT NULL,
	mandatory_from_class integer CHECK (mandatory_from_class BETWEEN 0 AND 9),
	conditional boolean NOT NULL,
	data json NOT NULL,
	PRIMARY KEY (scheme_id, version, ref),
	UNIQUE (scheme_id, version, position),
	FOREIGN KEY (scheme_id, version, section_id) REFERENCES scheme_section
);
COMMENT ON TABLE requirement IS 'The requirements of a scheme version, one row each.';
COMMENT ON COLUMN requirement.mandatory_from_class IS
	'Mandatory for this class and above, advisory below; NULL: advisory at every class.';
COMMENT ON COLUMN requirement.data IS 'The requirement object exactly as in the scheme document.';
CREATE INDEX requirement_secondary ON requirement USING gin (secondary_keywords);

CREATE TABLE requirement_mapping (
	scheme_id text NOT NULL,
	version text NOT NULL,
	ref text NOT NULL,
	target_scheme text NOT NULL,
	target_version text NOT NULL,
	target_refs text[] NOT NULL CHECK (cardinality(target_refs) > 0),
	relationship text NOT NULL
		CHECK (relationship IN ('equivalent-to', 'subset-of', 'superset-of', 'intersects-with')),
	note text,
	PRIMARY KEY (scheme_id, version, ref, target_scheme, target_version),
	FOREIGN KEY (scheme_id, version, ref) REFERENCES requirement
);
COMMENT ON TABLE requirement_mapping IS
	'Typed crosswalk: requirement <relationship> the target refs taken together (NIST OLIR '
	'vocabulary). The target scheme need not be imported.';
CREATE INDEX requirement_mapping_target ON requirement_mapping (target_scheme, target_version);

CREATE TRIGGER scheme_version_immutable BEFORE UPDATE OR DELETE ON scheme_version
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER scheme_class_immutable BEFORE UPDATE OR DELETE ON scheme_class
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER scheme_section_immutable BEFORE UPDATE OR DELETE ON scheme_section
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER requirement_immutable BEFORE UPDATE OR DELETE ON requirement
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER requirement_mapping_immutable BEFORE UPDATE OR DELETE ON requirement_mapping
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

GRANT SELECT, INSERT ON scheme, scheme_version, scheme_class, scheme_section, requirement,
	requirement_mapping TO conform_app;
