-- The registry: municipalities, their areas (wards), schools and preschool
-- facilities, and enrollment counts per fiscal year (学校基本調査, 1 May).

CREATE TABLE municipalities (
  code         text        PRIMARY KEY CHECK (code ~ '^[0-9]{5}$'),
  display_name text        NOT NULL CHECK (display_name <> ''),
  time_zone    text        NOT NULL DEFAULT 'Asia/Tokyo',
  create_time  timestamptz NOT NULL DEFAULT now(),
  update_time  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE areas (
  municipality  text    NOT NULL REFERENCES municipalities (code),
  code          text    NOT NULL CHECK (code ~ '^[0-9A-Za-z_-]{1,20}$'),
  display_name  text    NOT NULL CHECK (display_name <> ''),
  display_order integer NOT NULL CHECK (display_order > 0),
  PRIMARY KEY (municipality, code),
  CONSTRAINT areas_display_order_unique UNIQUE (municipality, display_order)
);

CREATE TABLE schools (
  municipality text NOT NULL,
  code         text NOT NULL CHECK (code ~ '^[0-9A-Za-z_-]{1,20}$'),
  display_name text NOT NULL CHECK (display_name <> ''),
  kind         text NOT NULL CHECK (kind IN ('elementary', 'junior_high',
                 'compulsory', 'kindergarten', 'nursery', 'certified_childcare')),
  area_code    text NOT NULL,
  PRIMARY KEY (municipality, code),
  FOREIGN KEY (municipality, area_code) REFERENCES areas (municipality, code)
);
CREATE INDEX schools_by_area ON schools (municipality, area_code, code);

-- A re-load of a year replaces that year's rows (never adds to them).
CREATE TABLE enrollment_counts (
  municipality text    NOT NULL,
  fiscal_year  integer NOT NULL CHECK (fiscal_year BETWEEN 1989 AND 2200),
  school_code  text    NOT NULL,
  grade        integer NOT NULL CHECK (grade BETWEEN 0 AND 9),
  pupils       integer NOT NULL CHECK (pupils >= 0),
  PRIMARY KEY (municipality, fiscal_year, school_code, grade),
  FOREIGN KEY (municipality, school_code) REFERENCES schools (municipality, code)
);

CREATE TABLE enrollment_loads (
  municipality text        NOT NULL REFERENCES municipalities (code),
  fiscal_year  integer     NOT NULL,
  rows_loaded  integer     NOT NULL,
  loaded_by    text        NOT NULL,
  load_time    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (municipality, fiscal_year)
);
