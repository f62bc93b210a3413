-- Retention: a configured period after a round's fiscal year ended (31 March
-- of the next year, in the municipality's time zone), the retention sweep
-- erases its pupils' personal data: names, kana, birth dates, sex, class,
-- notes, answers, scores and triggered items, the fingerprint of the sheet
-- as sent (a hash of all of them), and the reasons of decisions; in the
-- current rows and in the history they replaced. What stays is what the
-- counts need: round, school, pupil id, grade, candidate or not, the
-- decision's outcome and meeting, who wrote what when, and the audit trail.
-- Every erased row carries erase_time; the round does too, and takes no
-- more writes.
ALTER TABLE rounds ADD COLUMN erase_time timestamptz;
-- The sweep's work list: rounds not yet erased.
CREATE INDEX rounds_retention ON rounds (fiscal_year) WHERE erase_time IS NULL;

ALTER TABLE sheets ADD COLUMN erase_time timestamptz;
ALTER TABLE sheets ALTER COLUMN birth_date DROP NOT NULL;
ALTER TABLE sheets DROP CONSTRAINT sheets_pupil_name_check,
  DROP CONSTRAINT sheets_pupil_kana_check,
  DROP CONSTRAINT sheets_sex_check;
-- A sheet not erased still has every personal field.
ALTER TABLE sheets
  ADD CONSTRAINT sheets_personal_check CHECK (erase_time IS NOT NULL
    OR (pupil_name <> '' AND pupil_kana <> '' AND birth_date IS NOT NULL)),
  ADD CONSTRAINT sheets_sex_check CHECK (sex IN ('male', 'female', 'not_stated')
    OR (erase_time IS NOT NULL AND sex = ''));

ALTER TABLE decisions ADD COLUMN erase_time timestamptz;
ALTER TABLE decisions DROP CONSTRAINT decisions_reason_check;
ALTER TABLE decisions ADD CONSTRAINT decisions_reason_check
  CHECK (reason <> '' OR erase_time IS NOT NULL);

-- Erasing a sheet is not a correction: the version it blanks must not be
-- copied to the history (that would keep what the erasure removes).
DROP TRIGGER sheets_keep_history ON sheets;
CREATE TRIGGER sheets_keep_history
  AFTER UPDATE ON sheets
  FOR EACH ROW
  WHEN (OLD.content_hash IS DISTINCT FROM NEW.content_hash
        AND NEW.erase_time IS NULL)
  EXECUTE FUNCTION keep_sheet_history();

-- The history tables are append-only (trigger kosapo_append_only, and the
-- runtime role may not UPDATE them). This function is the one way the
-- runtime role erases them: it runs as the owner (SECURITY DEFINER), and it
-- turns on kosapo.append_only_erasure for its own statements only (on at
-- its start, off before it returns; PostgreSQL 15 lets only a superuser put
-- a custom setting in a function's SET clause), which with the owner as
-- current_user is what the trigger lets through (common/pg/migrations.cc). It blanks the personal columns of one round's
-- history rows and nothing else, and only for a round marked erased whose
-- fiscal year has ended by the database's clock, so even a runtime role
-- turned hostile cannot blank the history of a running year.
CREATE FUNCTION erase_round_history(erased_round bigint) RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER
AS $$
DECLARE
  blanked integer;
  reasons integer;
BEGIN
  IF NOT EXISTS (SELECT 1 FROM rounds
                  WHERE id = erased_round AND erase_time IS NOT NULL) THEN
    RAISE EXCEPTION 'round % is not erased', erased_round
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  IF NOT EXISTS (
      SELECT 1 FROM rounds r JOIN municipalities m ON m.code = r.municipality
       WHERE r.id = erased_round
         AND make_date(r.fiscal_year + 1, 3, 31)
             < (now() AT TIME ZONE m.time_zone)::date) THEN
    RAISE EXCEPTION 'round %: its fiscal year has not ended', erased_round
      USING ERRCODE = 'object_not_in_prerequisite_state';
  END IF;
  PERFORM set_config('kosapo.append_only_erasure', 'on', true);
  UPDATE sheet_history
     SET content = content || jsonb_build_object(
           'class_name', '', 'pupil_name', '', 'pupil_kana', '',
           'birth_date', NULL, 'sex', '', 'answers', '[]'::jsonb,
           'note', '', 'score', 0, 'triggered', '[]'::jsonb,
           'content_hash', '', 'erase_time', now())
   WHERE round_id = erased_round AND content->>'erase_time' IS NULL;
  GET DIAGNOSTICS blanked = ROW_COUNT;
  UPDATE decision_history SET reason = ''
   WHERE round_id = erased_round AND reason <> '';
  GET DIAGNOSTICS reasons = ROW_COUNT;
  PERFORM set_config('kosapo.append_only_erasure', 'off', true);
  RETURN blanked + reasons;
END
$$;
-- Names resolve in this schema, never in a caller's temporary tables
-- (pg_temp is searched first unless listed).
DO $$
BEGIN
  EXECUTE format(
    'ALTER FUNCTION erase_round_history(bigint) SET search_path = %I, pg_temp',
    current_schema());
END
$$;
-- The grant step gives EXECUTE to the runtime role alone.
REVOKE ALL ON FUNCTION erase_round_history(bigint) FROM PUBLIC;
