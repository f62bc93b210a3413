-- The area's name in English, for the reports' English labels; '' when the
-- city gave none (the reports then show the code).
ALTER TABLE areas ADD COLUMN display_name_en text NOT NULL DEFAULT '';
