-- A template belongs to one municipality: only its city operations publish
-- versions of it, and only its rounds use it. The templates shipped with
-- kosapo (created_by 'kosapo', such as 'default') belong to none: every
-- municipality's rounds may use them, and no one changes them through the
-- API. Without an owner, the city operations of any municipality could
-- publish a version of a template another municipality's rounds use.
ALTER TABLE templates
  ADD COLUMN municipality text REFERENCES municipalities (code);

-- Keys made before owners existed: a key made through the API whose rounds
-- are all of one municipality becomes that municipality's. Any other key
-- stays shared, so that every existing round keeps a template it may use:
-- a shipped key, also with versions a municipality added to it (the write
-- across municipalities this migration ends), and keys used by no round or
-- by rounds of several municipalities. A municipality publishes further
-- versions of those under a key of its own.
UPDATE templates t
   SET municipality = used.municipality
  FROM (SELECT template_key, min(municipality) AS municipality
          FROM rounds
         GROUP BY template_key
        HAVING count(DISTINCT municipality) = 1) used
 WHERE t.key = used.template_key
   AND NOT EXISTS (SELECT 1 FROM templates shipped
                    WHERE shipped.key = t.key
                      AND shipped.created_by = 'kosapo');

-- Every version of a key has the key's owner: a version of another owner
-- (a shipped key a municipality took first, a race the service's lock
-- missed) is refused, whoever writes it.
CREATE FUNCTION template_key_has_one_owner() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path FROM CURRENT
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM templates
              WHERE key = NEW.key AND version <> NEW.version
                AND municipality IS DISTINCT FROM NEW.municipality) THEN
    RAISE EXCEPTION 'template %: every version of a key has the same owner',
      NEW.key USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER templates_one_owner_per_key
  BEFORE INSERT OR UPDATE OF key, municipality ON templates
  FOR EACH ROW EXECUTE FUNCTION template_key_has_one_owner();

-- A round uses a template of its own municipality or a shared one.
CREATE FUNCTION round_template_is_usable() RETURNS trigger
  LANGUAGE plpgsql
  SET search_path FROM CURRENT
AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM templates
              WHERE key = NEW.template_key AND version = NEW.template_version
                AND municipality <> NEW.municipality) THEN
    RAISE EXCEPTION 'round %: template %/% belongs to another municipality',
      NEW.id, NEW.template_key, NEW.template_version
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER rounds_template_usable
  BEFORE INSERT OR UPDATE OF municipality, template_key, template_version
  ON rounds
  FOR EACH ROW EXECUTE FUNCTION round_template_is_usable();
