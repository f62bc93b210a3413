-- Why each access happened, as the caller stated it in the call's
-- x-kosapo-purpose(-bin) metadata; '' when not stated, as for the rows
-- written before.
ALTER TABLE access_audit ADD COLUMN purpose text NOT NULL DEFAULT '';
