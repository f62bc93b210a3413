-- The area's English name from the screening registry ('' when none), for
-- the English label of its row.
ALTER TABLE areas ADD COLUMN display_name_en text NOT NULL DEFAULT '';
