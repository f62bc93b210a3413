-- Cases: the child and household, and every record of the work on the case.
-- Histories are append-only: an approach status change, an outcome or a
-- reopening is a new row with the effective date staff chose and the time it
-- was recorded, so the state "as of" any date (as known at any instant) can
-- be recomputed. The columns marked "current" on cases are derived from those
-- rows in the same transaction, for listing and filtering.

CREATE TABLE cases (
  id                 bigserial PRIMARY KEY,
  municipality       text NOT NULL,
  area_code          text NOT NULL,
  source             text NOT NULL CHECK (source IN
                       ('screening', 'school', 'local_group', 'agency', 'other')),
  source_detail      text NOT NULL DEFAULT '',
  -- One case per screening extraction.
  extraction_id      text UNIQUE,
  -- The feed sequence of the last extraction event applied to this case.
  extraction_seq     bigint NOT NULL DEFAULT 0,
  opened_date        date NOT NULL,
  fiscal_year        integer NOT NULL,
  child_name         text NOT NULL,
  child_kana         text NOT NULL,
  -- Katakana without spaces: what search-before-create compares.
  kana_key           text NOT NULL,
  birth_date         date NOT NULL,
  sex                text NOT NULL DEFAULT '',
  school_code        text NOT NULL DEFAULT '',
  grade              integer NOT NULL DEFAULT 0,
  household          jsonb NOT NULL DEFAULT '{}',
  youtaikyo          boolean NOT NULL DEFAULT false,
  duplicate_override text NOT NULL DEFAULT '',
  -- Current state, derived from the histories below.
  state              text NOT NULL DEFAULT 'open'
                       CHECK (state IN ('open', 'closed', 'withdrawn')),
  withdraw_reason    text NOT NULL DEFAULT '',
  approach_status    text NOT NULL DEFAULT 'in_preparation',
  approach_reason    text NOT NULL DEFAULT '',
  outcome            text NOT NULL DEFAULT '',
  outcome_date       date,
  plan_version       integer NOT NULL DEFAULT 0,
  plan_review_date   date,
  -- Optimistic concurrency: +1 on every write to the case.
  revision           bigint NOT NULL DEFAULT 1,
  create_request_id  text,
  created_by         text NOT NULL,
  create_time        timestamptz NOT NULL DEFAULT now(),
  update_time        timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality, create_request_id)
);
CREATE INDEX cases_child ON cases (municipality, kana_key, birth_date);
CREATE INDEX cases_area ON cases (municipality, area_code, id);
CREATE INDEX cases_review ON cases (municipality, plan_review_date)
  WHERE state = 'open' AND plan_review_date IS NOT NULL;

-- The persons in charge (支援担当者), as the latest conference chose them.
CREATE TABLE case_assignees (
  case_id    bigint NOT NULL REFERENCES cases (id),
  subject    text NOT NULL,
  role       text NOT NULL,
  PRIMARY KEY (case_id, subject)
);
CREATE INDEX case_assignees_subject ON case_assignees (subject, case_id);

-- Hubs the child is enrolled at (decided by the centre director).
CREATE TABLE case_hubs (
  case_id    bigint NOT NULL REFERENCES cases (id),
  hub_code   text NOT NULL,
  PRIMARY KEY (case_id, hub_code)
);

CREATE TABLE approach_changes (
  id             bigserial PRIMARY KEY,
  case_id        bigint NOT NULL REFERENCES cases (id),
  status         text NOT NULL
                   CHECK (status IN ('in_preparation', 'outreach_done', 'not_possible')),
  reason         text NOT NULL DEFAULT '',
  effective_date date NOT NULL,
  note           text NOT NULL DEFAULT '',
  recorded_by    text NOT NULL,
  record_time    timestamptz NOT NULL DEFAULT clock_timestamp(),
  request_id     text,
  UNIQUE (case_id, request_id),
  CHECK ((status = 'not_possible') = (reason <> ''))
);
CREATE INDEX approach_changes_case ON approach_changes (case_id, effective_date, id);

-- Closures (an outcome) and reopenings, in the order they happened.
CREATE TABLE outcome_changes (
  id             bigserial PRIMARY KEY,
  case_id        bigint NOT NULL REFERENCES cases (id),
  kind           text NOT NULL CHECK (kind IN ('improved_resolved', 'moved_away',
                   'graduated', 'handed_to_child_consultation_centre', 'other',
                   'reopened')),
  effective_date date NOT NULL,
  note           text NOT NULL DEFAULT '',
  recorded_by    text NOT NULL,
  record_time    timestamptz NOT NULL DEFAULT clock_timestamp(),
  request_id     text,
  UNIQUE (case_id, request_id)
);
CREATE INDEX outcome_changes_case ON outcome_changes (case_id, effective_date, id);

CREATE TABLE conferences (
  id              bigserial PRIMARY KEY,
  case_id         bigint NOT NULL REFERENCES cases (id),
  kind            text NOT NULL CHECK (kind IN ('screening_meeting_ii', 'individual_case_conference')),
  conference_date date NOT NULL,
  -- Attendees, assessment, support policy and persons in charge, as the
  -- API's JSON form of the Conference.
  body            jsonb NOT NULL,
  recorded_by     text NOT NULL,
  create_time     timestamptz NOT NULL DEFAULT now(),
  request_id      text NOT NULL,
  UNIQUE (case_id, request_id)
);
CREATE INDEX conferences_case ON conferences (case_id, conference_date, id);

CREATE TABLE assessments (
  case_id       bigint NOT NULL REFERENCES cases (id),
  version       integer NOT NULL,
  assessed_date date NOT NULL,
  -- The needs, as the API's JSON form of the Assessment.
  body          jsonb NOT NULL,
  recorded_by   text NOT NULL,
  create_time   timestamptz NOT NULL DEFAULT now(),
  request_id    text NOT NULL,
  PRIMARY KEY (case_id, version),
  UNIQUE (case_id, request_id)
);

CREATE TABLE support_plans (
  case_id          bigint NOT NULL REFERENCES cases (id),
  version          integer NOT NULL,
  plan_date        date NOT NULL,
  review_date      date NOT NULL,
  -- Goals, supports and whose wishes were heard, as the API's JSON form of
  -- the SupportPlan.
  body             jsonb NOT NULL,
  recorded_by      text NOT NULL,
  create_time      timestamptz NOT NULL DEFAULT now(),
  request_id       text NOT NULL,
  PRIMARY KEY (case_id, version),
  UNIQUE (case_id, request_id)
);

CREATE TABLE contacts (
  id           bigserial PRIMARY KEY,
  case_id      bigint NOT NULL REFERENCES cases (id),
  kind         text NOT NULL,
  contact_date date NOT NULL,
  staff        text NOT NULL,
  summary      text NOT NULL,
  create_time  timestamptz NOT NULL DEFAULT now(),
  request_id   text NOT NULL,
  UNIQUE (case_id, request_id)
);
CREATE INDEX contacts_case ON contacts (case_id, contact_date DESC, id DESC);

CREATE TABLE urgent_reports (
  id              bigserial PRIMARY KEY,
  case_id         bigint NOT NULL REFERENCES cases (id),
  municipality    text NOT NULL,
  area_code       text NOT NULL,
  category        text NOT NULL,
  description     text NOT NULL,
  raised_by       text NOT NULL,
  raised_by_role  text NOT NULL,
  raise_time      timestamptz NOT NULL,
  due_time        timestamptz NOT NULL,
  routed_lead     text NOT NULL,
  routed_to       text NOT NULL DEFAULT '',
  ack_time        timestamptz,
  ack_by          text NOT NULL DEFAULT '',
  ack_note        text NOT NULL DEFAULT '',
  request_id      text NOT NULL,
  UNIQUE (case_id, request_id)
);
-- Escalation lists read only the unacknowledged reports, however many
-- acknowledged ones pile up over the years.
CREATE INDEX urgent_reports_open_area ON urgent_reports (municipality, area_code, due_time, id)
  WHERE ack_time IS NULL;
CREATE INDEX urgent_reports_open_routed ON urgent_reports (routed_to, due_time, id)
  WHERE ack_time IS NULL;

-- Who read or changed a case's personal data.
CREATE TABLE case_audit (
  id          bigserial PRIMARY KEY,
  case_id     bigint NOT NULL,
  access_time timestamptz NOT NULL DEFAULT clock_timestamp(),
  subject     text NOT NULL,
  role        text NOT NULL,
  method      text NOT NULL,
  access      text NOT NULL CHECK (access IN ('read', 'write')),
  request_id  text NOT NULL DEFAULT ''
);
CREATE INDEX case_audit_case ON case_audit (case_id, id DESC);
