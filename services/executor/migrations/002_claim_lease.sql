-- A claim holds its run while its executor renews the lease; an expired lease (the executor
-- died) lets another executor take the run over.
ALTER TABLE run_claims ADD COLUMN lease_until timestamptz;
