-- 0008 token lineage: who made each token, and with which token, so that
-- revoking a token also revokes every token made with it (a stolen token
-- cannot leave live offspring behind), and the audit can tell a token an
-- admin handed out from one a person made for themselves.

ALTER TABLE api_token
	ADD COLUMN created_by uuid REFERENCES app_user (id),
	ADD COLUMN created_with uuid REFERENCES api_token (id);
COMMENT ON COLUMN api_token.created_by IS
	'The person who made the token; NULL when made from the command line (conformctl).';
COMMENT ON COLUMN api_token.created_with IS
	'The token the request that made this one came with; revoking that one revokes this one.';
CREATE INDEX api_token_created_with ON api_token (created_with) WHERE created_with IS NOT NULL;
