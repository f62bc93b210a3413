-- Past-record rounds: a fiscal year that has ended, whose paper sheets and
-- meeting-I records a city migrates after the round's dates. Earlier rounds
-- are regular.

ALTER TABLE rounds
  ADD COLUMN kind text NOT NULL DEFAULT 'regular'
    CHECK (kind IN ('regular', 'past_record'));
