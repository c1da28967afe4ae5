-- History retention: finished claims by when they finished.
CREATE INDEX run_claims_finished_idx ON run_claims (finished_at) WHERE finished_at IS NOT NULL;
