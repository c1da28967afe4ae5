-- Finishing a claim touches no B-tree index, so PostgreSQL writes it as a heap-only (HOT)
-- update: one new row version in the same page (half of each page is kept for it) and no
-- index entry. Retention finds finished claims through a BRIN index, which does not rule that
-- out (PostgreSQL 16 and later); claims finish roughly in the order they are taken, which is
-- what BRIN summarises well.
ALTER TABLE run_claims SET (fillfactor = 50);
DROP INDEX run_claims_finished_idx;
CREATE INDEX run_claims_finished_brin ON run_claims USING brin (finished_at) WITH (autosummarize = on);
