-- 0023 retailer and regulator organisations (issue 14): they follow the
-- change feed and subscribe to its webhooks, and hold no role but their own
-- administrator's (org_admin), who manages their webhooks. A buyer needs no
-- organisation: the feed and every certificate are public.
--
-- The new enum values cannot be used in the transaction that adds them, so
-- conform_roles_fit compares the kind as text (as 0012 did for the role).

ALTER TYPE org_kind ADD VALUE IF NOT EXISTS 'retailer';
ALTER TYPE org_kind ADD VALUE IF NOT EXISTS 'regulator';

CREATE OR REPLACE FUNCTION conform_roles_fit(kind org_kind, roles user_role[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT roles::text[] <@ CASE kind::text
		WHEN 'scheme_owner' THEN ARRAY['admin', 'org_admin']
		WHEN 'accreditation_body' THEN ARRAY['accreditor', 'org_admin']
		WHEN 'assessment_body' THEN ARRAY['assessor', 'certifier', 'org_admin']
		WHEN 'manufacturer' THEN ARRAY['applicant', 'org_admin']
		WHEN 'retailer' THEN ARRAY['org_admin']
		WHEN 'regulator' THEN ARRAY['org_admin']
	END
$$;
COMMENT ON FUNCTION conform_roles_fit(org_kind, user_role[]) IS
	'Which roles the people of an organisation of a kind may hold: the roles of its kind, and '
	'org_admin (its own administrator) in every kind; a retailer or regulator has only org_admin.';
