-- Platform tables every kosapo service has in its own schema.

-- The transactional outbox. A service appends each domain event in the same
-- transaction as the state change it describes. The single counter row is
-- locked from the append until commit, so sequences are handed out in commit
-- order and without gaps: a reader that has seen sequence N has seen every
-- event up to N. (Appends serialize; keep them at the end of a transaction.)
CREATE TABLE outbox_sequence (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  last_sequence bigint  NOT NULL CHECK (last_sequence >= 0)
);
INSERT INTO outbox_sequence (singleton, last_sequence) VALUES (true, 0);

CREATE TABLE outbox_events (
  sequence    bigint      PRIMARY KEY CHECK (sequence > 0),
  event_id    uuid        NOT NULL DEFAULT gen_random_uuid() UNIQUE,
  subject     text        NOT NULL,
  type_url    text        NOT NULL,
  payload     bytea       NOT NULL,
  trace_id    text        NOT NULL DEFAULT '',
  create_time timestamptz NOT NULL DEFAULT now()
);

-- Where this service's consumers stand in each producer's feed. Updated in
-- the same transaction as the effects of the events applied, so each event
-- takes effect exactly once however often it is delivered.
CREATE TABLE consumer_checkpoints (
  source        text        PRIMARY KEY,
  last_sequence bigint      NOT NULL CHECK (last_sequence >= 0),
  update_time   timestamptz NOT NULL DEFAULT now()
);
