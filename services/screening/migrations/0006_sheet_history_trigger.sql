-- The version a sheet upsert replaces goes to sheet_history in the same
-- statement, kept by the database: whenever a sheets row's content changes,
-- the row as it was is copied with its revision and the subject who
-- replaced it (the new row's filled_by). The bulk intake then writes a batch
-- with one INSERT ... ON CONFLICT and no join of the batch with the stored
-- sheets, which the planner ran as a scan of every stored sheet per batch
-- (intake time quadratic in the city's size).

CREATE FUNCTION keep_sheet_history() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path FROM CURRENT
AS $$
BEGIN
  INSERT INTO sheet_history
    (round_id, school_code, pupil_id, revision, content, replaced_by)
  VALUES
    (OLD.round_id, OLD.school_code, OLD.pupil_id, OLD.revision,
     to_jsonb(OLD), NEW.filled_by);
  RETURN NULL;
END
$$;

CREATE TRIGGER sheets_keep_history
  AFTER UPDATE ON sheets
  FOR EACH ROW
  WHEN (OLD.content_hash IS DISTINCT FROM NEW.content_hash)
  EXECUTE FUNCTION keep_sheet_history();
