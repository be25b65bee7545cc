-- 0012 org_admin: every organisation has its own administrators, who make
-- its people, give them roles and hand out their first tokens. The scheme
-- owner makes an organisation and its first administrator only; it never
-- staffs another organisation (enforced by core/party.c).
--
-- The new enum value cannot be used in the transaction that adds it, so
-- conform_roles_fit compares the roles as text: its body never names the
-- value as a user_role.

ALTER TYPE user_role ADD VALUE IF NOT EXISTS 'org_admin';

CREATE OR REPLACE FUNCTION conform_roles_fit(kind org_kind, roles user_role[]) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT roles::text[] <@ CASE kind
		WHEN 'scheme_owner' THEN ARRAY['admin', 'org_admin']
		WHEN 'accreditation_body' THEN ARRAY['accreditor', 'org_admin']
		WHEN 'assessment_body' THEN ARRAY['assessor', 'certifier', 'org_admin']
		WHEN 'manufacturer' THEN ARRAY['applicant', 'org_admin']
	END
$$;
COMMENT ON FUNCTION conform_roles_fit(org_kind, user_role[]) IS
	'Which roles the people of an organisation of a kind may hold: the roles of its kind, and '
	'org_admin (its own administrator) in every kind.';

-- A first token handed to someone belongs to that person: revoking the
-- token of the one who made it leaves it live (see party_token_revoke).
COMMENT ON COLUMN api_token.created_with IS
	'The token the request that made this one came with (lineage, for the audit). A plain revoke '
	'revokes one token; a revoke as compromised also revokes the tokens made with it, at any '
	'depth, that belong to the same person.';
