-- Year-end counts: the ward comparison's counts of each fiscal year as of
-- the end of that year (31 March of the next), kept current as events are
-- applied. A ward comparison shows its own year and every earlier year as
-- of their ends, so it reads a few rows per area and year here instead of
-- counting every case of every year from the projections (a city of a
-- million cases over ten years: bench/RESULTS.md). A report as of another
-- day still counts from the projections (ProjectionStore::ScanCounts).
--
-- How it stays exact: triggers on the projections note each case a
-- transaction changes in year_end_dirty; at commit a deferred trigger
-- settles them: it takes away each case's old contribution (case_year_end),
-- works out its standing at its year end from the projections exactly as
-- the counting query does, and adds that. Settlements take one advisory
-- lock, so each one's statements (READ COMMITTED: a fresh snapshot each)
-- see every earlier settlement committed, whichever feed's consumer
-- (screening, case, referral) committed it.

-- 31 March of the year after fiscal year `fy`.
CREATE FUNCTION year_end_of(fy integer) RETURNS date
  LANGUAGE sql IMMUTABLE AS $$ SELECT make_date(fy + 1, 3, 31) $$;

-- Each case's standing at the end of its own fiscal year, as counted there.
CREATE TABLE case_year_end (
  name         text    PRIMARY KEY,
  municipality text    NOT NULL,
  area_code    text    NOT NULL,
  fiscal_year  integer NOT NULL,
  -- In the cohort: not withdrawn, opened by the year end.
  counted      boolean NOT NULL,
  -- The latest approach status by the year end; NULL: none yet.
  status       text,
  -- A support started by the year end and not revoked.
  connected    boolean NOT NULL,
  -- The latest outcome by the year end is improved or resolved.
  resolved     boolean NOT NULL
);

-- case_year_end summed per area and year, in the ward table's columns.
CREATE TABLE year_end_counts (
  municipality  text    NOT NULL,
  fiscal_year   integer NOT NULL,
  area_code     text    NOT NULL,
  target        bigint  NOT NULL,
  outreach_done bigint  NOT NULL,
  connected     bigint  NOT NULL,
  preparing     bigint  NOT NULL,
  unable        bigint  NOT NULL,
  resolved      bigint  NOT NULL,
  PRIMARY KEY (municipality, fiscal_year, area_code)
);

-- Cases changed by a transaction not yet settled. A row never outlives its
-- transaction (settled at commit), so the table needs no crash safety.
CREATE UNLOGGED TABLE year_end_dirty (
  case_name text NOT NULL
);

-- The year-end standing of the cases named, computed from the projections
-- with the counting query's rules (store/projection_store.cc).
CREATE FUNCTION year_end_rows(names text[]) RETURNS SETOF case_year_end
  LANGUAGE sql STABLE AS $$
  SELECT c.name, c.municipality, c.area_code, c.fiscal_year,
         NOT c.withdrawn AND c.opened_date <= year_end_of(c.fiscal_year),
         (SELECT a.status FROM approach_changes a
           WHERE a.case_name = c.name
             AND a.effective_date <= year_end_of(c.fiscal_year)
           ORDER BY a.effective_date DESC, a.seq DESC LIMIT 1),
         EXISTS (SELECT 1 FROM connections k
                  WHERE k.case_name = c.name AND NOT k.revoked
                    AND k.effective_date <= year_end_of(c.fiscal_year)),
         coalesce((SELECT o.kind = 'improved_resolved' FROM outcome_changes o
                    WHERE o.case_name = c.name
                      AND o.effective_date <= year_end_of(c.fiscal_year)
                    ORDER BY o.effective_date DESC, o.seq DESC LIMIT 1),
                  false)
    FROM cases c WHERE c.name = ANY(names)
$$;

-- Adds (sign 1) or takes away (sign -1) the contribution of the named
-- cases' case_year_end rows to year_end_counts.
CREATE FUNCTION add_year_end_counts(sign integer, names text[]) RETURNS void
  LANGUAGE sql AS $$
  INSERT INTO year_end_counts AS t
    (municipality, fiscal_year, area_code, target, outreach_done, connected,
     preparing, unable, resolved)
  SELECT municipality, fiscal_year, area_code,
         sign * count(*) FILTER (WHERE counted),
         sign * count(*) FILTER (WHERE counted AND status = 'outreach_done'),
         sign * count(*) FILTER (WHERE counted AND status = 'outreach_done'
                                   AND connected),
         sign * count(*) FILTER (WHERE counted AND (status IS NULL
                                   OR status = 'in_preparation')),
         sign * count(*) FILTER (WHERE counted AND status = 'not_possible'),
         sign * count(*) FILTER (WHERE counted AND resolved)
    FROM case_year_end WHERE name = ANY(names)
   GROUP BY municipality, fiscal_year, area_code
  ON CONFLICT (municipality, fiscal_year, area_code) DO UPDATE SET
    target = t.target + excluded.target,
    outreach_done = t.outreach_done + excluded.outreach_done,
    connected = t.connected + excluded.connected,
    preparing = t.preparing + excluded.preparing,
    unable = t.unable + excluded.unable,
    resolved = t.resolved + excluded.resolved
$$;

CREATE FUNCTION settle_year_end() RETURNS trigger LANGUAGE plpgsql AS $$
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
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER year_end_settle AFTER INSERT ON year_end_dirty
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
  EXECUTE FUNCTION settle_year_end();

CREATE FUNCTION note_case_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO year_end_dirty (case_name) VALUES (NEW.name);
  RETURN NULL;
END $$;

CREATE FUNCTION note_case_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO year_end_dirty (case_name) VALUES (NEW.case_name);
  RETURN NULL;
END $$;

CREATE TRIGGER cases_year_end AFTER INSERT OR UPDATE ON cases
  FOR EACH ROW EXECUTE FUNCTION note_case_changed();
CREATE TRIGGER approach_changes_year_end
  AFTER INSERT OR UPDATE ON approach_changes
  FOR EACH ROW EXECUTE FUNCTION note_case_event();
CREATE TRIGGER outcome_changes_year_end
  AFTER INSERT OR UPDATE ON outcome_changes
  FOR EACH ROW EXECUTE FUNCTION note_case_event();
CREATE TRIGGER connections_year_end AFTER INSERT OR UPDATE ON connections
  FOR EACH ROW EXECUTE FUNCTION note_case_event();

-- Recomputes everything from the projections: for projections loaded with
-- the triggers off (bulk loads), and below for the ones already here.
CREATE FUNCTION rebuild_year_end() RETURNS void LANGUAGE plpgsql AS $$
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
END $$;

SELECT rebuild_year_end();
