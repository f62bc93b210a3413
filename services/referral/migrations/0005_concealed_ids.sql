-- Ids that reach callers (resource names, page tokens, event payloads) are
-- a keyed permutation of the table's sequence, not the sequence itself: the
-- sequence is shared by every municipality, so the gap between two ids a
-- user of one city saw would tell how many records all the others created
-- in between, and the next id could be guessed. A permutation of distinct
-- sequence values never collides, so nothing retries.
--
-- The permutation is a 4-round Feistel network over two 31-bit halves,
-- keyed by a secret drawn once, here, from gen_random_uuid() (strong
-- randomness, in core since PostgreSQL 13); its round function is SHA-256
-- of the secret, the round and the half. Concealed ids are 2^62 plus the
-- permuted value: positive bigints, never equal to an id the sequence gave
-- before this migration (those are far below 2^62), which keep their ids.
--
-- Only the owner role reads the secret: the grant step gives the runtime
-- role nothing on tables named *_secret (common/pg/migrations.h), and
-- EXECUTE on this SECURITY DEFINER function, which the column defaults
-- call. History, audit and outbox tables keep their plain sequences: their
-- ids are internal and order their rows.
CREATE TABLE id_permutation_secret (
  only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  secret   bytea   NOT NULL CHECK (length(secret) = 32)
);
INSERT INTO id_permutation_secret (secret)
SELECT decode(replace(gen_random_uuid()::text, '-', '')
              || replace(gen_random_uuid()::text, '-', ''), 'hex');

CREATE FUNCTION kosapo_conceal_id(n bigint) RETURNS bigint
  LANGUAGE plpgsql STABLE STRICT SECURITY DEFINER
AS $$
DECLARE
  key   bytea;
  l     bigint := n >> 31;
  r     bigint := n & 2147483647;
  h     bytea;
  f     bigint;
  t     bigint;
BEGIN
  IF n < 0 OR n >= 4611686018427387904 THEN
    RAISE EXCEPTION 'kosapo_conceal_id: % is outside [0, 2^62)', n
      USING ERRCODE = 'numeric_value_out_of_range';
  END IF;
  SELECT secret INTO STRICT key FROM id_permutation_secret;
  FOR i IN 1..4 LOOP
    h := sha256(key || int2send(i::smallint) || int8send(r));
    f := ((get_byte(h, 0)::bigint << 24) | (get_byte(h, 1)::bigint << 16)
          | (get_byte(h, 2)::bigint << 8) | get_byte(h, 3)::bigint)
         & 2147483647;
    t := l # f;
    l := r;
    r := t;
  END LOOP;
  RETURN 4611686018427387904 + ((l << 31) | r);
END
$$;
-- Names resolve in this schema, never in a caller's temporary tables
-- (pg_temp is searched first unless listed).
DO $$
BEGIN
  EXECUTE format(
    'ALTER FUNCTION kosapo_conceal_id(bigint) SET search_path = %I, pg_temp',
    current_schema());
END
$$;
-- The grant step gives EXECUTE to the runtime role alone.
REVOKE ALL ON FUNCTION kosapo_conceal_id(bigint) FROM PUBLIC;

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
