-- 0026 GTIN lookup: the GS1 Digital Link resolver (/01/{gtin}) and the shelf
-- check (POST /v1/shelf-check) find certificates by the GTIN their product
-- snapshot states, normalised to 14 digits as GS1 Digital Link writes it.
-- Products keep the GTIN as entered (8 to 14 digits); this index is on the
-- normalised form the lookups compare (core/gtin.c SNAPSHOT_GTIN).
CREATE INDEX application_snapshot_gtin ON application ((lpad(product_snapshot->>'gtin', 14, '0')));
