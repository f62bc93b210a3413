-- Projections of the referral feed's hub events and the case feed's urgent
-- reports, for the hubs' monthly reports. Children appear only as usage and
-- case resource names; no notes, reasons in words, or anything personal.
-- Every row is keyed by the producer's resource name or the feed's
-- sequence, so a re-delivered event changes nothing.

-- A hub as the directory described it after each change (SupportChanged),
-- so a month is read with the capacity of its own days and a later change
-- does not rewrite an earlier month.
CREATE TABLE hub_versions (
  seq            bigint PRIMARY KEY,  -- the referral feed's sequence
  municipality   text NOT NULL,
  hub_code       text NOT NULL,
  display_name   text NOT NULL,
  daily_capacity integer NOT NULL,
  -- When the change was made: in force from that local day on.
  change_time    timestamptz NOT NULL,
  -- The contract's services to report monthly, in the contract's order.
  contract_codes text[] NOT NULL,
  contract_names text[] NOT NULL,
  CHECK (cardinality(contract_codes) = cardinality(contract_names))
);
CREATE INDEX hub_versions_hub ON hub_versions (municipality, hub_code, seq);

-- A child's usage of a hub: start (the first visit; moved back when an
-- earlier visit is recorded late) and end.
CREATE TABLE hub_usages (
  usage        text PRIMARY KEY,  -- "hubUsages/5"
  case_name    text NOT NULL,
  municipality text NOT NULL,
  hub_code     text NOT NULL,
  start_date   date,
  end_date     date,
  end_reason   text NOT NULL DEFAULT '',  -- enum_text of HubUsageEndReason
  was_started  boolean NOT NULL DEFAULT false
);
CREATE INDEX hub_usages_hub ON hub_usages (municipality, hub_code);
CREATE INDEX hub_usages_case ON hub_usages (case_name);

CREATE TABLE hub_visits (
  visit         text PRIMARY KEY,  -- "hubUsages/5/visits/9"
  usage         text NOT NULL,
  municipality  text NOT NULL,
  hub_code      text NOT NULL,
  visit_date    date NOT NULL,
  -- Contract service codes (letters, digits and "_").
  services      text[] NOT NULL,
  over_capacity boolean NOT NULL,
  problem_noted boolean NOT NULL
);
CREATE INDEX hub_visits_day ON hub_visits (municipality, hub_code, visit_date);

-- Urgent reports as raised; the report counts for a hub whose usage of the
-- case was running on the day it was raised.
CREATE TABLE urgent_reports (
  report       text PRIMARY KEY,  -- "cases/12/urgentReports/1"
  case_name    text NOT NULL,
  municipality text NOT NULL,
  category     text NOT NULL,  -- enum_text of UrgentCategory
  raise_time   timestamptz NOT NULL
);
CREATE INDEX urgent_reports_case ON urgent_reports (case_name, raise_time);
