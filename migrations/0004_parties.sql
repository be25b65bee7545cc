-- 0004 parties: organisations, people, API tokens and accreditation.
-- Tokens are stored only as SHA-256; the runtime role may update a token
-- only to revoke it or to note its use. Accreditation history is
-- append-only: the state of an accreditation at any time is its last event
-- at or before that time.

CREATE TYPE org_kind AS ENUM ('scheme_owner', 'accreditation_body', 'assessment_body', 'manufacturer');
CREATE TYPE user_role AS ENUM ('admin', 'accreditor', 'assessor', 'certifier', 'applicant');

CREATE TABLE organisation (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	kind org_kind NOT NULL,
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	country text NOT NULL CHECK (country ~ '^[A-Z]{2}$'),
	contact_email text NOT NULL CHECK (length(contact_email) <= 254),
	contact_phone text CHECK (length(contact_phone) <= 40),
	address text CHECK (length(address) <= 500),
	website text CHECK (length(website) <= 500),
	security_contact text CHECK (length(security_contact) <= 500),
	disclosure_policy_url text CHECK (length(disclosure_policy_url) <= 500),
	response_days integer CHECK (response_days BETWEEN 1 AND 365),
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	-- A manufacturer's vulnerability disclosure contact is shown on its
	-- certificates (DCMS guideline 2, PSTI requirement 2): required.
	CHECK ((kind = 'manufacturer') = (security_contact IS NOT NULL AND
	       disclosure_policy_url IS NOT NULL AND response_days IS NOT NULL))
);
COMMENT ON TABLE organisation IS
	'Scheme owner, accreditation bodies, assessment bodies and manufacturers.';
COMMENT ON COLUMN organisation.country IS 'ISO 3166-1 alpha-2 code.';
COMMENT ON COLUMN organisation.security_contact IS
	'Manufacturers only: where to report a vulnerability (an e-mail address or URL).';
COMMENT ON COLUMN organisation.response_days IS
	'Manufacturers only: the promised time to a first response to a report, in days.';
CREATE UNIQUE INDEX organisation_one_scheme_owner ON organisation (kind) WHERE kind = 'scheme_owner';
CREATE INDEX organisation_kind ON organisation (kind, name, id);

CREATE TABLE app_user (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	org_id uuid NOT NULL REFERENCES organisation (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	email text NOT NULL CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$' AND length(email) <= 254),
	roles user_role[] NOT NULL CHECK (cardinality(roles) BETWEEN 1 AND 5),
	active boolean NOT NULL DEFAULT true,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE app_user IS 'A person; belongs to one organisation and holds roles fitting its kind.';
CREATE UNIQUE INDEX app_user_email ON app_user (lower(email));
CREATE INDEX app_user_org ON app_user (org_id, id);

-- Which roles an organisation's people may hold.
CREATE FUNCTION conform_roles_fit(kind org_kind, roles user_role[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT roles <@ CASE kind
		WHEN 'scheme_owner' THEN ARRAY['admin']::user_role[]
		WHEN 'accreditation_body' THEN ARRAY['accreditor']::user_role[]
		WHEN 'assessment_body' THEN ARRAY['assessor', 'certifier']::user_role[]
		WHEN 'manufacturer' THEN ARRAY['applicant']::user_role[]
	END
$$;

CREATE FUNCTION app_user_roles_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
	k org_kind;
BEGIN
	SELECT kind INTO k FROM organisation WHERE id = NEW.org_id;
	IF NOT conform_roles_fit(k, NEW.roles) THEN
		RAISE EXCEPTION 'roles % do not fit an organisation of kind %', NEW.roles, k
			USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END $$;
CREATE TRIGGER app_user_roles BEFORE INSERT OR UPDATE ON app_user
	FOR EACH ROW EXECUTE FUNCTION app_user_roles_check();

CREATE TABLE api_token (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES app_user (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
	token_hash text NOT NULL UNIQUE CHECK (token_hash ~ '^[0-9a-f]{64}$'),
	hint text NOT NULL CHECK (length(hint) = 4),
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	revoked_at timestamptz,
	last_used_at timestamptz,
	CHECK (expires_at > created_at)
);
COMMENT ON TABLE api_token IS
	'Bearer tokens (cfm_ + 256 random bits, base64url). Only the SHA-256 of a token is kept; '
	'the token itself is shown once, when it is made.';
COMMENT ON COLUMN api_token.hint IS 'The last four characters of the token, to tell tokens apart.';
CREATE INDEX api_token_user ON api_token (user_id, created_at);

CREATE TABLE accreditation (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	accreditor_id uuid NOT NULL REFERENCES organisation (id),
	body_id uuid NOT NULL REFERENCES organisation (id),
	scheme_id text NOT NULL REFERENCES scheme (id),
	version_from text,
	version_to text,
	max_class integer NOT NULL CHECK (max_class BETWEEN 0 AND 9),
	reference text NOT NULL CHECK (length(reference) BETWEEN 1 AND 100),
	valid_from timestamptz NOT NULL,
	valid_until timestamptz NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now(),
	created_by uuid REFERENCES app_user (id),
	CHECK (valid_until > valid_from),
	-- ISO/IEC 17011: an accreditation cycle is at most five years.
	CHECK (valid_until <= valid_from + interval '5 years 1 day'),
	UNIQUE (accreditor_id, reference)
);
COMMENT ON TABLE accreditation IS
	'An accreditation body lets an assessment body certify for a scheme (all versions, or '
	'version_from..version_to inclusive, either end open) up to a class, for a period. Its '
	'state over time is in accreditation_event.';
CREATE INDEX accreditation_body ON accreditation (body_id, scheme_id);

CREATE TABLE accreditation_event (
	accreditation_id uuid NOT NULL REFERENCES accreditation (id),
	seq integer NOT NULL,
	action text NOT NULL CHECK (action IN ('granted', 'suspended', 'reinstated', 'withdrawn')),
	effective_at timestamptz NOT NULL,
	reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
	recorded_at timestamptz NOT NULL DEFAULT now(),
	actor_id uuid REFERENCES app_user (id),
	PRIMARY KEY (accreditation_id, seq)
);
COMMENT ON TABLE accreditation_event IS
	'Append-only history of an accreditation: its state at time T is the action of its last '
	'event with effective_at <= T (granted or reinstated: covers; suspended or withdrawn: not).';
CREATE TRIGGER accreditation_event_immutable BEFORE UPDATE OR DELETE ON accreditation_event
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();
CREATE TRIGGER accreditation_immutable BEFORE UPDATE OR DELETE ON accreditation
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

-- Version order: dot-separated parts, numerically where both are numbers.
CREATE FUNCTION conform_version_cmp(a text, b text) RETURNS integer
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
	pa text[] := regexp_split_to_array(a, '\.');
	pb text[] := regexp_split_to_array(b, '\.');
	x text;
	y text;
BEGIN
	FOR i IN 1 .. greatest(cardinality(pa), cardinality(pb)) LOOP
		x := coalesce(pa[i], '');
		y := coalesce(pb[i], '');
		IF x = y THEN CONTINUE; END IF;
		IF x ~ '^[0-9]{1,18}$' AND y ~ '^[0-9]{1,18}$' THEN
			RETURN sign(x::bigint - y::bigint);
		END IF;
		RETURN CASE WHEN x < y THEN -1 ELSE 1 END;
	END LOOP;
	RETURN 0;
END $$;

-- Does body cover scheme@version at class at time t? The one definition,
-- used by conform's C code and by the database's own checks.
CREATE FUNCTION conform_covers(body uuid, scheme text, version text, class integer, t timestamptz)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (
		SELECT 1 FROM accreditation a
		WHERE a.body_id = body AND a.scheme_id = scheme AND a.max_class >= class
		AND a.valid_from <= t AND t < a.valid_until
		AND (a.version_from IS NULL OR conform_version_cmp(a.version_from, version) <= 0)
		AND (a.version_to IS NULL OR conform_version_cmp(version, a.version_to) <= 0)
		AND (SELECT e.action FROM accreditation_event e WHERE e.accreditation_id = a.id
		     AND e.effective_at <= t ORDER BY e.effective_at DESC, e.seq DESC LIMIT 1)
		    IN ('granted', 'reinstated'))
$$;

GRANT SELECT, INSERT ON organisation, app_user, api_token, accreditation, accreditation_event
	TO conform_app;
GRANT UPDATE (name, country, contact_email, contact_phone, address, website, security_contact,
	disclosure_policy_url, response_days, updated_at) ON organisation TO conform_app;
GRANT UPDATE (name, roles, active, updated_at) ON app_user TO conform_app;
GRANT UPDATE (revoked_at, last_used_at) ON api_token TO conform_app;
