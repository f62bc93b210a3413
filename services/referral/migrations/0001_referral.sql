-- The referral service: the directory of supports (HSDS shape), referrals
-- with their step history and consents, and the drop-in hubs' usages with
-- plans, visits and the enrollments to mirror in the case service.
--
-- Directory entries and the recorded steps of a hub usage keep their API
-- form (the message's JSON) in body columns; what is searched, joined or
-- constrained has its own column. Histories are append-only: a referral
-- step or a consent is a new row with the effective date staff chose and
-- the time it was recorded. No child's personal data is held here: cases are
-- named ("cases/12") and live in the case service.

CREATE TABLE organizations (
  id                bigserial PRIMARY KEY,
  municipality      text NOT NULL,
  -- The Organization without its output fields.
  body              jsonb NOT NULL,
  -- Optimistic concurrency: +1 on every write.
  revision          bigint NOT NULL DEFAULT 1,
  create_request_id text NOT NULL,
  created_by        text NOT NULL,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality, create_request_id)
);

CREATE TABLE locations (
  id                bigserial PRIMARY KEY,
  organization_id   bigint NOT NULL REFERENCES organizations (id),
  municipality      text NOT NULL,
  body              jsonb NOT NULL,
  revision          bigint NOT NULL DEFAULT 1,
  create_request_id text NOT NULL,
  created_by        text NOT NULL,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality, create_request_id)
);
CREATE INDEX locations_organization ON locations (organization_id, id);

CREATE TABLE supports (
  id                bigserial PRIMARY KEY,
  organization_id   bigint NOT NULL REFERENCES organizations (id),
  municipality      text NOT NULL,
  category          text NOT NULL,
  -- The areas served; empty for the whole municipality.
  area_codes        text[] NOT NULL DEFAULT '{}',
  -- Set for drop-in hubs: the code staff tokens and the case service use.
  hub_code          text UNIQUE,
  body              jsonb NOT NULL,
  revision          bigint NOT NULL DEFAULT 1,
  create_request_id text NOT NULL,
  created_by        text NOT NULL,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality, create_request_id),
  CHECK ((category = 'drop_in_hub') = (hub_code IS NOT NULL))
);
CREATE INDEX supports_search ON supports (municipality, category, id);

CREATE TABLE referrals (
  id                bigserial PRIMARY KEY,
  municipality      text NOT NULL,
  case_name         text NOT NULL,
  -- The case's area when the referral was made.
  area_code         text NOT NULL,
  support_id        bigint NOT NULL REFERENCES supports (id),
  organization_id   bigint NOT NULL REFERENCES organizations (id),
  category          text NOT NULL,
  -- Current state, from the latest step.
  state             text NOT NULL CHECK (state IN ('proposed', 'sent',
                      'accepted', 'connected', 'declined', 'withdrawn',
                      'ended', 'revoked')),
  proposed_date     date NOT NULL,
  purpose           text NOT NULL DEFAULT '',
  -- Set when sent.
  sent_date         date,
  answer_due_date   date,
  referred_by       text NOT NULL,
  revision          bigint NOT NULL DEFAULT 1,
  create_request_id text NOT NULL,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality, create_request_id),
  CHECK ((sent_date IS NULL) = (answer_due_date IS NULL))
);
CREATE INDEX referrals_case ON referrals (municipality, case_name, id);
CREATE INDEX referrals_referrer ON referrals (municipality, referred_by, id);
CREATE INDEX referrals_overdue ON referrals (municipality, answer_due_date, id)
  WHERE state = 'sent';

CREATE TABLE referral_steps (
  id               bigserial PRIMARY KEY,
  referral_id      bigint NOT NULL REFERENCES referrals (id),
  state            text NOT NULL,
  effective_date   date NOT NULL,
  reason           text NOT NULL DEFAULT '',
  note             text NOT NULL DEFAULT '',
  recorded_by      text NOT NULL,
  recorded_by_role text NOT NULL,
  record_time      timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX referral_steps_referral
  ON referral_steps (referral_id, effective_date, id);

-- Consents to share, or the legal basis replacing one; the latest holds.
CREATE TABLE referral_consents (
  id           bigserial PRIMARY KEY,
  referral_id  bigint NOT NULL REFERENCES referrals (id),
  basis        text NOT NULL CHECK (basis IN ('household_consent',
                 'youtaikyo_decision', 'other_legal_basis')),
  given_date   date NOT NULL,
  note         text NOT NULL DEFAULT '',
  recorded_by  text NOT NULL,
  record_time  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX referral_consents_referral ON referral_consents (referral_id, id);

CREATE TABLE hub_usages (
  id                bigserial PRIMARY KEY,
  municipality      text NOT NULL,
  hub_code          text NOT NULL,
  support_id        bigint NOT NULL REFERENCES supports (id),
  case_name         text NOT NULL,
  area_code         text NOT NULL,
  state             text NOT NULL CHECK (state IN ('applied', 'assessed',
                      'approved', 'rejected', 'in_use', 'ended')),
  -- The steps as recorded (HubApplication, HubAssessment, HubDecision,
  -- PreUseInterview, HubUsageEnd), each once.
  application       jsonb NOT NULL,
  assessment        jsonb,
  decision          jsonb,
  interview         jsonb,
  end_record        jsonb,
  -- The approved first day, and the first visit's day.
  start_date        date,
  started_date      date,
  revision          bigint NOT NULL DEFAULT 1,
  create_request_id text NOT NULL,
  create_time       timestamptz NOT NULL DEFAULT now(),
  update_time       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (municipality, create_request_id)
);
-- One application or usage at a time per child and hub.
CREATE UNIQUE INDEX hub_usages_open ON hub_usages (case_name, hub_code)
  WHERE state NOT IN ('rejected', 'ended');
CREATE INDEX hub_usages_hub ON hub_usages (hub_code, id);
CREATE INDEX hub_usages_case ON hub_usages (municipality, case_name, id);

CREATE TABLE hub_plans (
  usage_id     bigint NOT NULL REFERENCES hub_usages (id),
  version      integer NOT NULL,
  plan_date    date NOT NULL,
  -- The HubSupportPlan (goals, wishes, who, when), and the city's
  -- HubPlanReview once recorded.
  body         jsonb NOT NULL,
  review       jsonb,
  PRIMARY KEY (usage_id, version)
);

CREATE TABLE hub_visits (
  id                   bigserial PRIMARY KEY,
  usage_id             bigint NOT NULL REFERENCES hub_usages (id),
  hub_code             text NOT NULL,
  visit_date           date NOT NULL,
  -- Minutes since local midnight.
  arrival_minute       integer NOT NULL,
  departure_minute     integer NOT NULL,
  services             text[] NOT NULL DEFAULT '{}',
  over_capacity        boolean NOT NULL,
  over_capacity_reason text NOT NULL DEFAULT '',
  recorded_by          text NOT NULL,
  record_time          timestamptz NOT NULL DEFAULT clock_timestamp(),
  request_id           text NOT NULL,
  UNIQUE (usage_id, request_id),
  -- One visit per child and day: the daily capacity counts children.
  UNIQUE (usage_id, visit_date),
  CHECK (arrival_minute < departure_minute)
);
CREATE INDEX hub_visits_day ON hub_visits (hub_code, visit_date);

-- Whether the case service should show each child as enrolled at a hub
-- (while a usage is approved or in use), and whether it has recorded that.
-- Written with the decision or the end in one transaction; the case service
-- is told after commit and again until it has answered.
CREATE TABLE hub_enrollments (
  case_name    text NOT NULL,
  hub_code     text NOT NULL,
  enrolled     boolean NOT NULL,
  synced       boolean NOT NULL DEFAULT false,
  attempts     integer NOT NULL DEFAULT 0,
  -- The status code of the last failed attempt, for operators.
  last_error   text NOT NULL DEFAULT '',
  update_time  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (case_name, hub_code)
);
CREATE INDEX hub_enrollments_pending ON hub_enrollments (update_time)
  WHERE NOT synced;

-- Request ids of writes to an existing referral or hub usage, so that a
-- retry answers with the resource instead of acting twice.
CREATE TABLE write_requests (
  resource    text NOT NULL,
  request_id  text NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (resource, request_id)
);

-- Who read or changed a referral or hub usage (their notes may be personal
-- data about the household).
CREATE TABLE access_audit (
  id          bigserial PRIMARY KEY,
  resource    text NOT NULL,
  subject     text NOT NULL,
  role        text NOT NULL,
  method      text NOT NULL,
  access      text NOT NULL CHECK (access IN ('read', 'write')),
  request_id  text NOT NULL,
  access_time timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_audit_resource ON access_audit (resource, id);
