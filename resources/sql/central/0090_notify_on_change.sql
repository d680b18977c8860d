-- NOTIFY clockface_roster only when the feed gained a row (issue 14).
--
-- The notification came from statement-level triggers on employees and face_templates, which fire for every
-- statement, also one that changed nothing: a re-import of an unchanged roster (its upserts skip identical rows) still
-- woke every kiosk once per batch for an empty sync. Now the row-level feed functions notify right after they append a
-- feed row. PostgreSQL delivers one notification per channel and payload per transaction however often it is raised,
-- so a transaction of 10,000 changes still wakes each kiosk once.

DROP TRIGGER employees_feed_notify ON employees;
DROP TRIGGER face_templates_feed_notify ON face_templates;
DROP FUNCTION roster_feed_notify();

CREATE OR REPLACE FUNCTION employees_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'delete', OLD.id, OLD.site);
    PERFORM pg_notify('clockface_roster', '');
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW IS NOT DISTINCT FROM OLD THEN
      RETURN NEW;
    END IF;
    -- Moved to another site: the old site's kiosks must drop the person.
    IF NEW.site IS DISTINCT FROM OLD.site THEN
      INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'delete', OLD.id, OLD.site);
    END IF;
  END IF;
  INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'upsert', NEW.id, NEW.site);
  PERFORM pg_notify('clockface_roster', '');
  RETURN NEW;
END
$$;

CREATE OR REPLACE FUNCTION face_templates_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  emp_site text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT site INTO emp_site FROM employees WHERE id = OLD.employee_id;
    -- No employee row: the employee itself is being deleted, and its own tombstone covers the templates.
    IF FOUND THEN
      INSERT INTO roster_changes (entity, op, employee_id, template_id, site)
        VALUES ('template', 'delete', OLD.employee_id, OLD.id, emp_site);
      PERFORM pg_notify('clockface_roster', '');
    END IF;
    RETURN OLD;
  END IF;
  SELECT site INTO emp_site FROM employees WHERE id = NEW.employee_id;
  INSERT INTO roster_changes (entity, op, employee_id, template_id, site)
    VALUES ('template', 'upsert', NEW.employee_id, NEW.id, emp_site);
  PERFORM pg_notify('clockface_roster', '');
  RETURN NEW;
END
$$;
