-- Enrolment from a kiosk's camera (admin mode on the kiosk, behind the kiosk's admin PIN).
--
-- A kiosk role may not write the roster. This one function lets it add face templates (and, if needed, the
-- employee) at its own site only, with the duplicate-face guard applied inside the same transaction, and every
-- template it adds marked source = 'kiosk'. It answers only for the calling kiosk's own login (or an admin).

CREATE FUNCTION kiosk_enrol(for_kiosk bigint, p_employee_no text, p_full_name text, p_model_id text,
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
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not this login''s kiosk, or is revoked', for_kiosk USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(array_length(p_embeddings, 1), 0) NOT BETWEEN 1 AND 10 THEN
    RAISE EXCEPTION 'between 1 and 10 templates per enrolment' USING ERRCODE = 'invalid_parameter_value';
  END IF;
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
    SELECT x.employee_no AS no, x.full_name AS name INTO dup
    FROM face_templates t JOIN employees x ON x.id = t.employee_id
    WHERE x.employee_no <> p_employee_no AND t.model_id = p_model_id AND (t.embedding <-> e) <= p_threshold
    ORDER BY t.embedding <-> e LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT emp.id, p_employee_no, coalesce(emp.full_name, p_full_name), 0, dup.no::text, dup.name::text;
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
REVOKE ALL ON FUNCTION kiosk_enrol(bigint, text, text, text, vector[], real) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_enrol(bigint, text, text, text, vector[], real) TO clockface_kiosk, clockface_admin;
