-- Closes holes in what a kiosk's login can do, found by test/faults/central-roles.test.ts (issue 8).
--
-- 1. Temp-table hijack of the row-level-security helpers.
--    clockface_current_kiosk_id() and clockface_kiosk_sites() are plain SQL functions without a pinned search_path,
--    so their "kiosks" and "kiosk_sites" resolve through the caller's search_path, and PostgreSQL searches the
--    session's pg_temp schema first for tables. Every role may create temporary tables by default (TEMPORARY is
--    granted to PUBLIC on a new database), so a kiosk could create a temp table "kiosks" naming itself as any kiosk
--    id and any site, and the policies on punches, employees, face_templates and roster_changes would believe it:
--    read and insert another kiosk's punches, read the whole roster. Two independent fixes:
--    a) the helpers resolve names in public only (pg_temp named last, so it is never searched first);
--    b) nobody but the owner and administrators may create temporary objects in this database at all.

ALTER FUNCTION clockface_current_kiosk_id() SET search_path = public, pg_temp;
ALTER FUNCTION clockface_kiosk_sites() SET search_path = public, pg_temp;

DO $$
BEGIN
  EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO clockface_admin', current_database());
END
$$;

-- A database created before PostgreSQL 15 (or restored from one) still lets PUBLIC create objects in public.
REVOKE CREATE ON SCHEMA public FROM PUBLIC;

-- Functions are executable by PUBLIC unless revoked. Pruning the feed is IT's job: without this a kiosk's call
-- only failed because of the table grants underneath.
REVOKE ALL ON FUNCTION prune_roster_changes(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION prune_roster_changes(interval) TO clockface_admin;

-- 2. kiosk_enrol outside its rules.
--    a) The duplicate-face guard used the threshold the caller passed: NULL, NaN, a negative number or 0 switched
--       the guard off, so a kiosk could add anyone's face (even someone of another site) to an employee it serves.
--       The threshold must now be a number in (0, 2], the range kiosk settings allow (electron/kiosk/kiosk-settings.ts),
--       and the guard never looks closer than 0.2 (the lowest threshold the kiosk's admin screen offers,
--       shared/kiosk/contract.ts): a kiosk configured lower still matches as it likes, but cannot enrol a face
--       that close to someone else's.
--    b) "1 to 10 templates" counted only the first dimension of the array: a 2 x 10 array added 20.
--    c) A duplicate of an employee of a site the kiosk does not serve was returned by number and name: with the
--       highest threshold a kiosk could name people of every site from any face. Such a duplicate is still
--       refused, but reported without saying who it is.
CREATE OR REPLACE FUNCTION kiosk_enrol(for_kiosk bigint, p_employee_no text, p_full_name text, p_model_id text,
                                       p_embeddings vector[], p_threshold real)
RETURNS TABLE (employee_id bigint, employee_no text, full_name text, templates_added integer,
               duplicate_employee_no text, duplicate_full_name text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  kiosk_site text;
  emp employees%ROWTYPE;
  e vector;
  dup record;
  added integer := 0;
  guard real;
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not this login''s kiosk, or is revoked', for_kiosk USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(array_ndims(p_embeddings), 0) <> 1 OR coalesce(cardinality(p_embeddings), 0) NOT BETWEEN 1 AND 10 THEN
    RAISE EXCEPTION 'between 1 and 10 templates per enrolment, as a one-dimensional array'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- NaN compares greater than every number in PostgreSQL, so it fails the range test too.
  IF p_threshold IS NULL OR NOT (p_threshold > 0 AND p_threshold <= 2) THEN
    RAISE EXCEPTION 'duplicate-face threshold % is outside (0, 2]', p_threshold USING ERRCODE = 'invalid_parameter_value';
  END IF;
  guard := greatest(p_threshold, 0.2);
  SELECT k.site INTO kiosk_site FROM kiosks k WHERE k.id = for_kiosk;

  SELECT * INTO emp FROM employees x WHERE x.employee_no = p_employee_no FOR UPDATE;
  IF FOUND THEN
    IF emp.site NOT IN (SELECT kiosk_site UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = for_kiosk) THEN
      RAISE EXCEPTION 'employee % belongs to a site this kiosk does not serve', p_employee_no
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  ELSIF p_full_name IS NULL OR btrim(p_full_name) = '' THEN
    RAISE EXCEPTION 'no employee %: give a full name to create them', p_employee_no USING ERRCODE = 'no_data_found';
  END IF;

  -- The duplicate-face guard: a frame within the threshold of someone else's template adds nothing.
  FOREACH e IN ARRAY p_embeddings LOOP
    SELECT x.employee_no AS no, x.full_name AS name,
           x.site IN (SELECT kiosk_site UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = for_kiosk) AS served
      INTO dup
    FROM face_templates t JOIN employees x ON x.id = t.employee_id
    WHERE x.employee_no <> p_employee_no AND t.model_id = p_model_id AND (t.embedding <-> e) <= guard
    ORDER BY t.embedding <-> e LIMIT 1;
    IF FOUND THEN
      IF dup.served THEN
        RETURN QUERY SELECT emp.id, p_employee_no, coalesce(emp.full_name, p_full_name), 0, dup.no::text, dup.name::text;
      ELSE
        RETURN QUERY SELECT emp.id, p_employee_no, coalesce(emp.full_name, p_full_name), 0,
                            '(another site)'::text, '(an employee of a site this kiosk does not serve)'::text;
      END IF;
      RETURN;
    END IF;
  END LOOP;

  IF emp.id IS NULL THEN
    INSERT INTO employees (employee_no, full_name, site, consent_at)
      VALUES (p_employee_no, btrim(p_full_name), kiosk_site, now()) RETURNING * INTO emp;
  END IF;
  FOREACH e IN ARRAY p_embeddings LOOP
    INSERT INTO face_templates (employee_id, model_id, embedding, source) VALUES (emp.id, p_model_id, e, 'kiosk');
    added := added + 1;
  END LOOP;
  RETURN QUERY SELECT emp.id, emp.employee_no, emp.full_name, added, NULL::text, NULL::text;
END
$$;
-- CREATE OR REPLACE keeps the existing grants (EXECUTE for clockface_kiosk and clockface_admin, none for PUBLIC).
