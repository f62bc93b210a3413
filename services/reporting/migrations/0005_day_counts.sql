-- Counts as of any day: a report as of a day other than a year end (30
-- September, today) counted the year's cases one by one from the
-- projections (ProjectionStore::ScanCounts), which grows with the size of
-- the year's cohort: 131 ms at 100,000 cases in ten years, about ten times
-- that at a million (bench/RESULTS.md). It now sums a few hundred rows per
-- area of day_counts.
--
-- What a case adds to the ward table as of a day is a step function of the
-- day: it changes only on the days of the case's own facts (opened, an
-- approach status, an outcome, a connection). case_day_steps holds, per
-- case and such day, how much the case's contribution changes that day
-- (-1, 0 or 1 per column; days without a change are left out), so the
-- steps of a case up to a day add up to its contribution as of that day.
-- day_counts sums them per area and day; the counts as of a day are the
-- sum of day_counts up to it. They are kept exact the way the year-end
-- counts are (0003): the same dirty cases are settled at commit, under the
-- same lock, by taking away a case's old steps and adding its new ones.

CREATE TABLE case_day_steps (
  name          text     NOT NULL,
  day           date     NOT NULL,
  municipality  text     NOT NULL,
  fiscal_year   integer  NOT NULL,
  area_code     text     NOT NULL,
  target        smallint NOT NULL,
  outreach_done smallint NOT NULL,
  connected     smallint NOT NULL,
  preparing     smallint NOT NULL,
  unable        smallint NOT NULL,
  resolved      smallint NOT NULL,
  PRIMARY KEY (name, day)
);

-- case_day_steps summed per area and day: the counts as of day D are the
-- sum of the rows of days up to D.
CREATE TABLE day_counts (
  municipality  text    NOT NULL,
  fiscal_year   integer NOT NULL,
  day           date    NOT NULL,
  area_code     text    NOT NULL,
  target        bigint  NOT NULL,
  outreach_done bigint  NOT NULL,
  connected     bigint  NOT NULL,
  preparing     bigint  NOT NULL,
  unable        bigint  NOT NULL,
  resolved      bigint  NOT NULL,
  PRIMARY KEY (municipality, fiscal_year, day, area_code)
);

-- The steps of the named cases (all cases when `names` is NULL), computed
-- from the projections with the counting query's rules
-- (store/projection_store.cc, ScanCounts): as of day D a case counts when
-- it is not withdrawn and was opened by D; its status is its latest
-- approach change by D (latest date, then latest sequence), likewise its
-- outcome; it is connected when a connection not revoked starts by D. One
-- pass over each case's facts in date order: the same statement serves a
-- few cases at commit (index scans) and a bulk load (one sort).
CREATE FUNCTION day_steps(names text[]) RETURNS SETOF case_day_steps
  LANGUAGE plpgsql STABLE AS $fn$
DECLARE
  chosen text := CASE WHEN names IS NULL THEN 'true'
                      ELSE 'case_name = ANY($1)' END;
BEGIN
  RETURN QUERY EXECUTE format($q$
    WITH facts AS (
      SELECT case_name, opened_date AS day, 0 AS kind, 0::bigint AS seq,
             municipality, fiscal_year, area_code, opened_date, withdrawn,
             NULL::text AS status, NULL::boolean AS resolved,
             false AS connects
        FROM (SELECT name AS case_name, * FROM cases) c WHERE %1$s
      UNION ALL
      SELECT case_name, effective_date, 1, seq, NULL, NULL, NULL, NULL, NULL,
             status, NULL, false
        FROM approach_changes WHERE %1$s
      UNION ALL
      SELECT case_name, effective_date, 2, seq, NULL, NULL, NULL, NULL, NULL,
             NULL, kind = 'improved_resolved', false
        FROM outcome_changes WHERE %1$s
      UNION ALL
      SELECT case_name, effective_date, 3, 0, NULL, NULL, NULL, NULL, NULL,
             NULL, NULL, true
        FROM connections WHERE NOT revoked AND %1$s),
    running AS (
      SELECT case_name, day,
             max(municipality) OVER whole AS municipality,
             max(fiscal_year) OVER whole AS fiscal_year,
             max(area_code) OVER whole AS area_code,
             NOT bool_or(withdrawn) OVER whole
               AND max(opened_date) OVER whole <= day AS counted,
             array_agg(status) FILTER (WHERE kind = 1) OVER upto AS statuses,
             array_agg(resolved) FILTER (WHERE kind = 2) OVER upto
               AS outcomes,
             bool_or(connects) OVER upto AS connected,
             lead(day) OVER upto IS DISTINCT FROM day AS last_of_day
        FROM facts
      WINDOW upto AS (PARTITION BY case_name COLLATE "C"
                      ORDER BY day, kind, seq),
             whole AS (upto ROWS BETWEEN UNBOUNDED PRECEDING
                                     AND UNBOUNDED FOLLOWING)),
    standing AS (
      SELECT case_name, day, municipality, fiscal_year, area_code, counted,
             statuses[cardinality(statuses)] AS status,
             connected,
             coalesce(outcomes[cardinality(outcomes)], false) AS resolved
        FROM running
       WHERE last_of_day AND municipality IS NOT NULL),
    vectors AS (
      SELECT case_name, day, municipality, fiscal_year, area_code,
             counted::int AS target,
             (counted AND status IS NOT DISTINCT FROM 'outreach_done')::int
               AS outreach_done,
             (counted AND status IS NOT DISTINCT FROM 'outreach_done'
                      AND connected)::int AS connected,
             (counted AND (status IS NULL OR status = 'in_preparation'))::int
               AS preparing,
             (counted AND status IS NOT DISTINCT FROM 'not_possible')::int
               AS unable,
             (counted AND resolved)::int AS resolved
        FROM standing),
    steps AS (
      SELECT case_name, day, municipality, fiscal_year, area_code,
             target - lag(target, 1, 0) OVER byday AS target,
             outreach_done - lag(outreach_done, 1, 0) OVER byday
               AS outreach_done,
             connected - lag(connected, 1, 0) OVER byday AS connected,
             preparing - lag(preparing, 1, 0) OVER byday AS preparing,
             unable - lag(unable, 1, 0) OVER byday AS unable,
             resolved - lag(resolved, 1, 0) OVER byday AS resolved
        FROM vectors
      WINDOW byday AS (PARTITION BY case_name COLLATE "C" ORDER BY day))
    SELECT case_name, day, municipality, fiscal_year, area_code,
           target::smallint, outreach_done::smallint, connected::smallint,
           preparing::smallint, unable::smallint, resolved::smallint
      FROM steps
     WHERE (target, outreach_done, connected, preparing, unable, resolved)
           <> (0, 0, 0, 0, 0, 0)
  $q$, chosen) USING names;
END $fn$;

-- Adds (sign 1) or takes away (sign -1) the named cases' steps to
-- day_counts.
CREATE FUNCTION add_day_counts(sign integer, names text[]) RETURNS void
  LANGUAGE sql AS $$
  INSERT INTO day_counts AS t
    (municipality, fiscal_year, day, area_code, target, outreach_done,
     connected, preparing, unable, resolved)
  SELECT municipality, fiscal_year, day, area_code, sign * sum(target),
         sign * sum(outreach_done), sign * sum(connected),
         sign * sum(preparing), sign * sum(unable), sign * sum(resolved)
    FROM case_day_steps WHERE name = ANY(names)
   GROUP BY municipality, fiscal_year, day, area_code
  ON CONFLICT (municipality, fiscal_year, day, area_code) DO UPDATE SET
    target = t.target + excluded.target,
    outreach_done = t.outreach_done + excluded.outreach_done,
    connected = t.connected + excluded.connected,
    preparing = t.preparing + excluded.preparing,
    unable = t.unable + excluded.unable,
    resolved = t.resolved + excluded.resolved
$$;

-- 0003's settlement, and the same cases' steps.
CREATE OR REPLACE FUNCTION settle_year_end() RETURNS trigger
  LANGUAGE plpgsql AS $$
DECLARE
  names text[];
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'year-end counts are settled under READ COMMITTED only';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.year_end'));
  -- A fresh snapshot from here on: every earlier settlement is visible.
  WITH settled AS (DELETE FROM year_end_dirty RETURNING case_name)
  SELECT array_agg(DISTINCT case_name) INTO names FROM settled;
  IF names IS NULL THEN
    RETURN NULL;  -- an earlier firing in this transaction settled them
  END IF;
  PERFORM add_year_end_counts(-1, names);
  DELETE FROM case_year_end WHERE name = ANY(names);
  INSERT INTO case_year_end SELECT * FROM year_end_rows(names);
  PERFORM add_year_end_counts(1, names);
  PERFORM add_day_counts(-1, names);
  DELETE FROM case_day_steps WHERE name = ANY(names);
  INSERT INTO case_day_steps SELECT * FROM day_steps(names);
  PERFORM add_day_counts(1, names);
  RETURN NULL;
END $$;

-- 0003's rebuild, and the steps and day counts from scratch.
CREATE OR REPLACE FUNCTION rebuild_year_end() RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext(current_schema() || '.year_end'));
  DELETE FROM year_end_dirty;
  DELETE FROM case_year_end;
  DELETE FROM year_end_counts;
  INSERT INTO case_year_end
  WITH cohort AS (
    SELECT name, municipality, area_code, fiscal_year,
           NOT withdrawn AND opened_date <= year_end_of(fiscal_year) AS counted,
           year_end_of(fiscal_year) AS day
      FROM cases),
  status AS (
    SELECT DISTINCT ON (a.case_name) a.case_name, a.status
      FROM approach_changes a JOIN cohort ON cohort.name = a.case_name
     WHERE a.effective_date <= cohort.day
     ORDER BY a.case_name, a.effective_date DESC, a.seq DESC),
  outcome AS (
    SELECT DISTINCT ON (o.case_name) o.case_name, o.kind
      FROM outcome_changes o JOIN cohort ON cohort.name = o.case_name
     WHERE o.effective_date <= cohort.day
     ORDER BY o.case_name, o.effective_date DESC, o.seq DESC),
  connected AS (
    SELECT DISTINCT k.case_name
      FROM connections k JOIN cohort ON cohort.name = k.case_name
     WHERE NOT k.revoked AND k.effective_date <= cohort.day)
  SELECT cohort.name, cohort.municipality, cohort.area_code,
         cohort.fiscal_year, cohort.counted, s.status,
         k.case_name IS NOT NULL, coalesce(o.kind = 'improved_resolved', false)
    FROM cohort
    LEFT JOIN status s ON s.case_name = cohort.name
    LEFT JOIN outcome o ON o.case_name = cohort.name
    LEFT JOIN connected k ON k.case_name = cohort.name;
  INSERT INTO year_end_counts
  SELECT municipality, fiscal_year, area_code,
         count(*) FILTER (WHERE counted),
         count(*) FILTER (WHERE counted AND status = 'outreach_done'),
         count(*) FILTER (WHERE counted AND status = 'outreach_done'
                            AND connected),
         count(*) FILTER (WHERE counted AND (status IS NULL
                            OR status = 'in_preparation')),
         count(*) FILTER (WHERE counted AND status = 'not_possible'),
         count(*) FILTER (WHERE counted AND resolved)
    FROM case_year_end
   GROUP BY municipality, fiscal_year, area_code;
  DELETE FROM case_day_steps;
  DELETE FROM day_counts;
  INSERT INTO case_day_steps SELECT * FROM day_steps(NULL);
  INSERT INTO day_counts
  SELECT municipality, fiscal_year, day, area_code, sum(target),
         sum(outreach_done), sum(connected), sum(preparing), sum(unable),
         sum(resolved)
    FROM case_day_steps
   GROUP BY municipality, fiscal_year, day, area_code
   -- In key order, so a year's days are read from few pages.
   ORDER BY municipality, fiscal_year, day, area_code;
END $$;

SELECT rebuild_year_end();
