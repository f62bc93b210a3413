-- Ids that reach callers are a keyed permutation of their table's
-- sequence (kosapo_conceal_id, platform migration 0002_conceal_id.sql, which
-- says why); the tables below are the ones whose ids callers see.

-- The ids callers see: cases, and the conferences, contacts and urgent
-- reports named under them (cases/{id}/{collection}/{id}). Assessments and
-- plans are numbered per case; approach and outcome changes, the audit and
-- the outbox keep their sequences (internal, and they order their rows).
ALTER TABLE cases
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('cases_id_seq'));
ALTER TABLE conferences
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('conferences_id_seq'));
ALTER TABLE contacts
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('contacts_id_seq'));
ALTER TABLE urgent_reports
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('urgent_reports_id_seq'));

-- Lists that promise creation order now read it from the creation time
-- (with the id to break ties), since ids no longer follow it: ListCases,
-- oldest first (this index), and a case's contacts, newest first.
DROP INDEX cases_area;
CREATE INDEX cases_area ON cases (municipality, area_code, create_time, id);
