-- Ids that reach callers (resource names, page tokens, event payloads) are
-- a keyed permutation of their table's sequence, not the sequence itself:
-- a sequence is shared by every municipality, so the gap between two ids a
-- user of one city saw would tell how many records all the others created
-- in between, and the next id could be guessed. A permutation of distinct
-- sequence values never collides, so nothing retries. Each service's own
-- migration points the defaults of the tables whose ids callers see at
-- kosapo_conceal_id (case 0005, referral 0005, screening 0011); reporting
-- names no record by a sequence and uses none of this.
--
-- The permutation is an 8-round Feistel network over two 31-bit halves,
-- keyed by a secret drawn once per schema, here, from gen_random_uuid()
-- (strong randomness, in core since PostgreSQL 13); its round function is
-- SHA-256 of the secret, the round and the half. Concealed ids are 2^62
-- plus the permuted value: positive bigints, never equal to an id a
-- sequence gave before (those are far below 2^62), which keep their ids.
--
-- Only the owner role reads the secret: the grant step gives the runtime
-- role nothing on tables named *_secret (common/pg/migrations.h), and
-- EXECUTE on this SECURITY DEFINER function, which the column defaults
-- call.
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
  FOR i IN 1..8 LOOP
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
