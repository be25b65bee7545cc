-- 0001 foundation: the runtime role may read which migrations are applied, so
-- that conformd can refuse to start (and /v1/ready can answer 503) while the
-- schema is behind. schema_migrations itself is created by the migrator.
GRANT SELECT ON schema_migrations TO conform_app;
