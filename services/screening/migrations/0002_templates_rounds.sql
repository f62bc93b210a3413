-- Screening templates (immutable versions) and rounds.

CREATE TABLE templates (
  key         text        NOT NULL CHECK (key ~ '^[a-z0-9_-]{1,40}$'),
  version     integer     NOT NULL CHECK (version >= 1),
  -- The template as kosapo's template JSON (services/screening/data/README.md).
  body        jsonb       NOT NULL,
  created_by  text        NOT NULL,
  create_time timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (key, version)
);

CREATE TABLE rounds (
  id               bigserial   PRIMARY KEY,
  municipality     text        NOT NULL REFERENCES municipalities (code),
  fiscal_year      integer     NOT NULL CHECK (fiscal_year BETWEEN 1989 AND 2200),
  title            text        NOT NULL CHECK (title <> ''),
  template_key     text        NOT NULL,
  template_version integer     NOT NULL,
  open_date        date        NOT NULL,
  close_date       date        NOT NULL CHECK (close_date >= open_date),
  closed           boolean     NOT NULL DEFAULT false,
  request_id       text        NOT NULL,
  created_by       text        NOT NULL,
  create_time      timestamptz NOT NULL DEFAULT now(),
  FOREIGN KEY (template_key, template_version) REFERENCES templates (key, version),
  UNIQUE (municipality, request_id)
);
CREATE INDEX rounds_by_year ON rounds (municipality, fiscal_year, open_date);
