-- 0013 signer keys: the private halves of signing keys leave conformd for
-- conform-signer, a process of its own that keeps them in a PKCS#11 token
-- per owner (SoftHSM2 by default). The database still never holds a private
-- key; private_key_ref now names where the signer keeps it.

COMMENT ON TABLE signing_key IS
	'Ed25519 public keys: an assessment body''s certificate keys, and the service''s log key. '
	'kid is the RFC 7638 thumbprint. The private key never enters the database nor conformd: '
	'conform-signer holds it, in the owner''s own PKCS#11 token (see private_key_ref).';
COMMENT ON COLUMN signing_key.private_key_ref IS
	'Where the private half is: conform-signer:<owner>/<kid> (owner: the body''s id, or log). '
	'Keys registered before 0013 name a PEM file or OSSL_STORE URI until `conformctl key import` '
	'hands them to the signer.';
COMMENT ON COLUMN signing_key.retired_at IS
	'No longer used to sign, and destroyed in conform-signer; still published, so that what it '
	'signed stays verifiable.';

-- Handing a key registered before 0013 to the signer moves its record
-- (core/signer.c): the runtime role may repoint it, nothing else.
GRANT UPDATE (private_key_ref) ON signing_key TO conform_app;
