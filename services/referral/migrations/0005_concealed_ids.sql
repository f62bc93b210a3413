-- Ids that reach callers are a keyed permutation of their table's
-- sequence (kosapo_conceal_id, platform migration 0002_conceal_id.sql, which
-- says why); the tables below are the ones whose ids callers see.

-- The ids callers see: the directory (organizations, locations, supports),
-- referrals, hub usages and their visits (hubUsages/{id}/visits/{id}).
-- Referral steps and consents, the access audit and the outbox keep their
-- sequences (internal, and they order their rows).
ALTER TABLE organizations
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('organizations_id_seq'));
ALTER TABLE locations
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('locations_id_seq'));
ALTER TABLE supports
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('supports_id_seq'));
ALTER TABLE referrals
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('referrals_id_seq'));
ALTER TABLE hub_usages
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('hub_usages_id_seq'));
ALTER TABLE hub_visits
  ALTER COLUMN id SET DEFAULT kosapo_conceal_id(nextval('hub_visits_id_seq'));
