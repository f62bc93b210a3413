-- Audit rows' ids no longer count every city's accesses: they are a keyed
-- permutation of the sequence (kosapo_conceal_id, platform migration
-- 0002_conceal_id.sql), as the ids callers see are (0005_concealed_ids.sql).
-- ListCaseAudit's page token named the last row's id; the trail now pages
-- by access time, then id, newest first.
ALTER TABLE case_audit
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('case_audit_id_seq'));
DROP INDEX case_audit_case;
CREATE INDEX case_audit_case ON case_audit (case_id, access_time DESC, id DESC);
