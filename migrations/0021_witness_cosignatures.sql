-- Witness cosignatures (C2SP tlog-cosignature v1, Ed25519) of the log's
-- checkpoints, as the witnesses configured by the operator returned them
-- (C2SP tlog-witness add-checkpoint). conformd stores only cosignatures it
-- verified against the configured key; a row is never changed.
CREATE TABLE tlog_cosignature (
	size bigint NOT NULL REFERENCES tlog_checkpoint (size),
	witness text NOT NULL,          -- the witness's verifier key (vkey, type 0x04)
	name text NOT NULL,             -- the witness's key name, as in its signature line
	cosigned_at bigint NOT NULL CHECK (cosigned_at > 0), -- the cosignature's POSIX timestamp
	line text NOT NULL CHECK (line LIKE E'\u2014 %'),     -- the note signature line, no newline
	at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (size, witness)
);
COMMENT ON TABLE tlog_cosignature IS
	'Verified witness cosignatures (cosignature/v1) of tlog checkpoints; served after the '
	'log''s own signature line in the checkpoint note.';
CREATE INDEX tlog_cosignature_witness ON tlog_cosignature (witness, size);

CREATE TRIGGER tlog_cosignature_immutable BEFORE UPDATE OR DELETE ON tlog_cosignature
	FOR EACH ROW EXECUTE FUNCTION conform_immutable();

GRANT SELECT, INSERT ON tlog_cosignature TO conform_app;
