-- Ids that reach callers are a keyed permutation of their table's
-- sequence (kosapo_conceal_id, platform migration 0002_conceal_id.sql, which
-- says why); the tables below are the ones whose ids callers see.

-- The ids callers see: rounds (municipalities/{m}/rounds/{id}) and meetings
-- (.../schools/{s}/meetings/{id}). The audit keeps its sequence.
ALTER TABLE rounds
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('rounds_id_seq'));
ALTER TABLE meetings
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('meetings_id_seq'));
