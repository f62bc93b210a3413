-- The method each remembered request id wrote with, so that an id reused
-- for a different write is refused instead of being taken for a retry.
ALTER TABLE write_requests ADD COLUMN method text NOT NULL DEFAULT '';
