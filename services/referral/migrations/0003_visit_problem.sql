-- Whether the operator noted a problem with the child on a visit, for the
-- hub's monthly meeting with the city, and what it was. Only the flag goes
-- on the feed; the note stays here.
ALTER TABLE hub_visits
  ADD COLUMN problem_noted boolean NOT NULL DEFAULT false,
  ADD COLUMN problem_note text NOT NULL DEFAULT '',
  ADD CONSTRAINT hub_visits_note_needs_flag
    CHECK (problem_noted OR problem_note = '');
