-- Who read or wrote a pupil's personal data, when, through which RPC and,
-- when the caller said (x-kosapo-purpose metadata), why. Staff read it with
-- ListAuditRecords. Rows go in inside the transaction of the access they
-- record, so a call that fails leaves none and one that succeeds has them.
--
-- Audited, one row per pupil and record:
--   UpsertSheet (write, then the read of the stored sheet it answers with),
--   GetSheet, ListSheets (the sheets of the page returned),
--   ListCandidates (pupils' scores), RecordDecision, ListDecisions,
--   ListExtractions (the extracted pupils' sheets and decisions), and
--   ListAuditRecords itself when it returns entries (who looked at whom).
-- ImportSheets and ImportSheetsCsv write one row per stored batch and
-- school, holding all its pupils: a row per pupil would cost the intake an
-- index entry per sheet. Each batch is its own transaction, so a failed
-- intake keeps the rows of the batches it stored (the sheets stay too).
-- Not audited, as no pupil's data leaves or changes: registry, enrollment,
-- templates, rounds, GetRoundProgress (counts only), RecordMeeting (a date
-- and attendee roles). The event feed (PupilExtracted, read by the case
-- service's own identity through the shared feed code) is not audited here.
CREATE TABLE screening_audit (
  id           bigserial   PRIMARY KEY,
  access_time  timestamptz NOT NULL DEFAULT clock_timestamp(),
  subject      text        NOT NULL,
  role         text        NOT NULL,
  method       text        NOT NULL,
  access       text        NOT NULL CHECK (access IN ('read', 'write')),
  request_id   text        NOT NULL DEFAULT '',
  purpose      text        NOT NULL DEFAULT '',
  municipality text        NOT NULL,
  -- NULL for a read of a pupil's trail across rounds.
  round_id     bigint,
  school_code  text        NOT NULL,
  -- What of the pupil's was read or written; 'audit': their audit trail.
  record       text        NOT NULL
    CHECK (record IN ('sheet', 'decision', 'extraction', 'audit')),
  -- School-issued pupil ids: one, or a bulk intake batch's of the school.
  pupil_ids    text[]      NOT NULL CHECK (cardinality(pupil_ids) > 0)
);
CREATE INDEX screening_audit_pupils ON screening_audit USING gin (pupil_ids);

-- Append-only, whatever the grants say: the service's own role owns this
-- table, and an owner can grant itself back what a REVOKE took away.
CREATE FUNCTION screening_audit_is_append_only() RETURNS trigger
  LANGUAGE plpgsql
AS $$
BEGIN
  RAISE EXCEPTION 'screening_audit is append-only: % refused', TG_OP
    USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER screening_audit_no_change
  BEFORE UPDATE OR DELETE ON screening_audit
  FOR EACH ROW EXECUTE FUNCTION screening_audit_is_append_only();
CREATE TRIGGER screening_audit_no_truncate
  BEFORE TRUNCATE ON screening_audit
  FOR EACH STATEMENT EXECUTE FUNCTION screening_audit_is_append_only();
