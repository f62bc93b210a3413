-- Audit rows' ids no longer count every city's accesses: they are a keyed
-- permutation of the sequence (kosapo_conceal_id, platform migration
-- 0002_conceal_id.sql), as the ids callers see are (0011_concealed_ids.sql).
-- ListAuditRecords' page token named the last row's id; the trail now pages
-- by access time, then id, newest first.
ALTER TABLE screening_audit ALTER COLUMN id
  SET DEFAULT kosapo_conceal_id(nextval('screening_audit_id_seq'));
