-- One rule for dates (docs/architecture.md, "Dates and periods"): every
-- period is half-open, its end the first instant no longer covered, and
-- "at most five years" is end <= start + 5 years. The accreditation table's
-- check allowed a day more (an end read as inclusive): it is replaced. Rows
-- granted under the old check keep their end (NOT VALID: nothing is
-- rewritten); every new or changed row meets the new one.
DO $$
DECLARE
	c name;
BEGIN
	SELECT conname INTO c FROM pg_constraint
	 WHERE conrelid = 'accreditation'::regclass AND contype = 'c'
	   AND pg_get_constraintdef(oid) LIKE '%5 years 1 day%';
	IF c IS NOT NULL THEN
		EXECUTE format('ALTER TABLE accreditation DROP CONSTRAINT %I', c);
	END IF;
END $$;

ALTER TABLE accreditation ADD CONSTRAINT accreditation_at_most_five_years
	CHECK (valid_until <= valid_from + interval '5 years') NOT VALID;
