-- A retry whose backoff is long is handed to the scheduler: the claim is released with the time
-- before which its next attempt must not start.
ALTER TABLE run_claims ADD COLUMN retry_after timestamptz;
