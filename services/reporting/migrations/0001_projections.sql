-- Projections of the other services' feeds: only what the reports count.
-- No names, birth dates, addresses or free text. Rows that come from one
-- event are keyed by the event's feed and sequence, so a re-delivered event
-- can never count twice (the consumer's checkpoint already prevents it).

CREATE TABLE areas (
  municipality  text NOT NULL,
  code          text NOT NULL,
  display_name  text NOT NULL,
  display_order integer NOT NULL,
  PRIMARY KEY (municipality, code)
);

-- Enrollment as loaded (学校基本調査, 1 May): a load replaces the year.
CREATE TABLE enrollment (
  municipality text NOT NULL,
  fiscal_year  integer NOT NULL,
  school_code  text NOT NULL,
  area_code    text NOT NULL,
  pupils       bigint NOT NULL,
  PRIMARY KEY (municipality, fiscal_year, school_code)
);

-- One row per case of the cohort; withdrawn cases leave it.
CREATE TABLE cases (
  name         text PRIMARY KEY,
  municipality text NOT NULL,
  area_code    text NOT NULL,
  fiscal_year  integer NOT NULL,
  opened_date  date NOT NULL,
  withdrawn    boolean NOT NULL DEFAULT false
);
CREATE INDEX cases_cohort ON cases (municipality, fiscal_year);

CREATE TABLE approach_changes (
  seq            bigint PRIMARY KEY,  -- the case feed's sequence
  case_name      text NOT NULL,
  status         text NOT NULL,
  effective_date date NOT NULL
);
CREATE INDEX approach_changes_case ON approach_changes (case_name, effective_date, seq);

-- Outcomes and reopenings ('reopened').
CREATE TABLE outcome_changes (
  seq            bigint PRIMARY KEY,
  case_name      text NOT NULL,
  kind           text NOT NULL,
  effective_date date NOT NULL
);
CREATE INDEX outcome_changes_case ON outcome_changes (case_name, effective_date, seq);

-- Supports that actually started (a referral connected, a hub usage
-- started), by the producer's resource name; revoked ones stop counting.
CREATE TABLE connections (
  source         text PRIMARY KEY,  -- "referrals/3", "hubUsages/5"
  case_name      text NOT NULL,
  effective_date date NOT NULL,
  revoked        boolean NOT NULL DEFAULT false
);
CREATE INDEX connections_case ON connections (case_name, effective_date);
