-- Retention: a configured period after a case ends (closed with an outcome,
-- or withdrawn), the retention sweep erases its personal data: the child,
-- the household, every free text (notes, contact summaries, conference,
-- assessment and plan bodies, urgent report details). What stays is what
-- the reports and the histories need: area, source, dates, approach status
-- and outcome, and who did what when (the audit trail), with erase_time set.
ALTER TABLE cases ADD COLUMN erase_time timestamptz;
-- An erased child has no birth date.
ALTER TABLE cases ALTER COLUMN birth_date DROP NOT NULL;
-- When a withdrawn case ended (closed ones end on their outcome date).
ALTER TABLE cases ADD COLUMN withdraw_time timestamptz;
UPDATE cases SET withdraw_time = update_time WHERE state = 'withdrawn';
-- The sweep's work list: ended cases not yet erased.
CREATE INDEX cases_retention ON cases (id)
  WHERE erase_time IS NULL AND state <> 'open';
