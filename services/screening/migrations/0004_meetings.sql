-- Screening meeting I and its decisions per pupil, with history.

CREATE TABLE meetings (
  id           bigserial   PRIMARY KEY,
  round_id     bigint      NOT NULL REFERENCES rounds (id),
  municipality text        NOT NULL,
  school_code  text        NOT NULL,
  meeting_date date        NOT NULL,
  -- [{"role": ..., "count": n}]
  attendees    jsonb       NOT NULL,
  request_id   text        NOT NULL,
  created_by   text        NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (municipality, school_code) REFERENCES schools (municipality, code),
  UNIQUE (round_id, school_code, request_id)
);

CREATE TABLE decisions (
  round_id    bigint      NOT NULL,
  school_code text        NOT NULL,
  pupil_id    text        NOT NULL,
  meeting_id  bigint      NOT NULL REFERENCES meetings (id),
  outcome     text        NOT NULL CHECK (outcome IN ('extract', 'watch_in_school', 'no_concern')),
  reason      text        NOT NULL CHECK (reason <> ''),
  decided_by  text        NOT NULL,
  revision    integer     NOT NULL DEFAULT 1,
  update_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, school_code, pupil_id),
  FOREIGN KEY (round_id, school_code, pupil_id)
    REFERENCES sheets (round_id, school_code, pupil_id)
);
CREATE INDEX decisions_extracted ON decisions (round_id, school_code)
  WHERE outcome = 'extract';

CREATE TABLE decision_history (
  round_id      bigint      NOT NULL,
  school_code   text        NOT NULL,
  pupil_id      text        NOT NULL,
  revision      integer     NOT NULL,
  meeting_id    bigint      NOT NULL,
  outcome       text        NOT NULL,
  reason        text        NOT NULL,
  decided_by    text        NOT NULL,
  update_time   timestamptz NOT NULL,
  replaced_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (round_id, school_code, pupil_id, revision)
);
