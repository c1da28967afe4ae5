-- A run is written only by this service, for a job it holds (the firing claims the job; a status
-- event is joined to its job), so the foreign key's check of every run inserted, a query of its
-- own per row, guards nothing the statements do not. Retention deletes a job's runs with it.
ALTER TABLE runs DROP CONSTRAINT runs_job_id_fkey;
