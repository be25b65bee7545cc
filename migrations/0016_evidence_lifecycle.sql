-- 0016 the evidence lifecycle: the janitor asks, for each stored file,
-- whether any evidence row still references its digest (under the digest's
-- advisory lock, see core/evidence.c); without an index that is a scan of
-- every evidence row per file.

CREATE INDEX evidence_digest ON evidence (digest);
COMMENT ON INDEX evidence_digest IS
	'For the evidence janitor: is a stored file (by SHA-256) still referenced by any evidence row?';
COMMENT ON COLUMN evidence.size IS
	'Bytes of the file; the sum over an organisation''s applications is its evidence usage, '
	'checked against the evidence-quota setting (superseded rows count: they are kept).';
