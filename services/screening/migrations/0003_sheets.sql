-- Pupils' screening sheets: one per pupil per round, replaced by
-- corrections with the previous versions kept in sheet_history. Personal
-- data (name, kana, birth date, note) lives only here and in the history.

CREATE TABLE sheets (
  round_id     bigint           NOT NULL REFERENCES rounds (id),
  municipality text             NOT NULL,
  school_code  text             NOT NULL,
  pupil_id     text             NOT NULL CHECK (pupil_id ~ '^[0-9A-Za-z_-]{1,40}$'),
  grade        integer          NOT NULL CHECK (grade BETWEEN 1 AND 9),
  class_name   text             NOT NULL DEFAULT '',
  pupil_name   text             NOT NULL CHECK (pupil_name <> ''),
  pupil_kana   text             NOT NULL CHECK (pupil_kana <> ''),
  birth_date   date             NOT NULL,
  sex          text             NOT NULL CHECK (sex IN ('male', 'female', 'not_stated')),
  -- [{"item": code, "kind": "flag"|"level", "value": n}, ...] by item code.
  answers      jsonb            NOT NULL,
  note         text             NOT NULL DEFAULT '',
  score        double precision NOT NULL,
  -- [{"item": code, "points": p, "always_review": b}, ...] highest first.
  triggered    jsonb            NOT NULL,
  candidate    boolean          NOT NULL,
  -- SHA-256 of the content as sent: equal hash = unchanged re-submission.
  content_hash text             NOT NULL,
  revision     integer          NOT NULL DEFAULT 1,
  filled_by    text             NOT NULL,
  update_time  timestamptz      NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, school_code, pupil_id),
  FOREIGN KEY (municipality, school_code) REFERENCES schools (municipality, code)
);
CREATE INDEX sheets_candidates ON sheets (round_id, school_code)
  WHERE candidate;

CREATE TABLE sheet_history (
  round_id      bigint      NOT NULL,
  school_code   text        NOT NULL,
  pupil_id      text        NOT NULL,
  revision      integer     NOT NULL,
  -- The replaced version, as the sheets row was.
  content       jsonb       NOT NULL,
  replaced_by   text        NOT NULL,
  replaced_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, school_code, pupil_id, revision),
  FOREIGN KEY (round_id, school_code, pupil_id)
    REFERENCES sheets (round_id, school_code, pupil_id)
);
