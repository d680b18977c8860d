-- What a stolen kiosk password can no longer do (issue 13, items 2, 3, 4, 7, 8, 10). Each rule has a case in
-- test/faults/central-roles.test.ts or central-abuse.test.ts that fails when the rule is removed. The limits are in
-- central_settings (0070).


-- Text that is safe to print on a terminal and in a spreadsheet: no control characters (C0, DEL, C1), no invisible
-- or direction-changing characters, at most max_length characters.
CREATE FUNCTION clockface_printable(t text, max_length integer) RETURNS boolean
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp AS $$
  SELECT t IS NOT NULL AND length(t) BETWEEN 1 AND max_length
     AND t !~ '[\u0001-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]'
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Punches.

-- A kiosk punches only active, not erased employees of the sites it serves (the employees its policy lets it see).
-- A punch its stale cache still allows is refused, and stays in the kiosk's outbox with central's reason until IT
-- repairs the roster (or for ever, counted in `clockface kiosk list`): it is never accepted for someone the kiosk
-- has no business punching.
DROP POLICY kiosk_own_punches_write ON punches;
CREATE POLICY kiosk_own_punches_write ON punches FOR INSERT TO {{kiosk}}
  WITH CHECK (kiosk_id = clockface_current_kiosk_id()
              AND EXISTS (SELECT 1 FROM employees e
                          WHERE e.id = punches.employee_id AND e.active AND e.erased_at IS NULL));

-- received_at is central's clock at the insert, not at the start of the inserting transaction: a kiosk that held
-- a transaction open could otherwise back-date it (kiosk_last_punches' cursor relies on it).
CREATE OR REPLACE FUNCTION punches_server_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.received_at := clock_timestamp();
  RETURN NEW;
END
$$;

-- A punch's kiosk time must be a real time near central's: infinity crashed reports, years 1901 and 2999 were
-- accepted. Three years back covers any backlog a payroll could still use; a month ahead covers a kiosk clock set
-- wrong. NOT VALID: rows already stored are kept as they are (a migration does not judge old records).
ALTER TABLE punches ADD CONSTRAINT punches_punched_at_plausible
  CHECK (isfinite(punched_at) AND punched_at > received_at - interval '3 years'
         AND punched_at < received_at + interval '31 days') NOT VALID;
-- NaN compares greater than every number in PostgreSQL, so this refuses NaN and both infinities.
ALTER TABLE punches ADD CONSTRAINT punches_match_distance_finite
  CHECK (match_distance IS NULL OR match_distance < 'Infinity'::real) NOT VALID;

-- ---------------------------------------------------------------------------------------------------------------
-- Audit snapshots: JPEG only (the kiosk sends only JPEG; central refused nothing before), and none of an erased
-- employee (a kiosk offline during the erasure still has them queued).
ALTER TABLE punch_snapshots ADD CONSTRAINT punch_snapshots_jpeg
  CHECK (substring(jpeg FROM 1 FOR 3) = '\xffd8ff'::bytea
         AND substring(jpeg FROM octet_length(jpeg) - 1) = '\xffd9'::bytea) NOT VALID;

-- The erased-employee rule for templates and snapshots takes a KEY SHARE lock on the employee, which `employee erase`
-- (SELECT … FOR UPDATE) waits for: an enrolment or snapshot racing the erasure either lands before it (and is
-- deleted by it) or sees erased_at and is refused. SECURITY DEFINER so that the lock needs no UPDATE right of the
-- caller.
CREATE FUNCTION refuse_template_of_erased() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  erased timestamptz;
BEGIN
  SELECT e.erased_at INTO erased FROM employees e WHERE e.id = NEW.employee_id FOR KEY SHARE;
  IF erased IS NOT NULL THEN
    RAISE EXCEPTION 'the biometric data of this employee was erased; no face template can be added'
      USING ERRCODE = 'CFE01', HINT = 'Erasure is final for this employee record.';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER face_templates_not_erased BEFORE INSERT OR UPDATE OF employee_id ON face_templates
  FOR EACH ROW EXECUTE FUNCTION refuse_template_of_erased();

CREATE FUNCTION refuse_snapshot_of_erased() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  erased timestamptz;
BEGIN
  SELECT e.erased_at INTO erased FROM punches p JOIN employees e ON e.id = p.employee_id
  WHERE p.id = NEW.punch_id FOR KEY SHARE OF e;
  IF erased IS NOT NULL THEN
    RAISE EXCEPTION 'the biometric data of this punch''s employee was erased; central keeps no image of them'
      USING ERRCODE = 'CFE01';
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER punch_snapshots_not_erased BEFORE INSERT OR UPDATE OF punch_id ON punch_snapshots
  FOR EACH ROW EXECUTE FUNCTION refuse_snapshot_of_erased();

-- ---------------------------------------------------------------------------------------------------------------
-- Per-kiosk volume, counted per hour of central's clock by statement-level triggers (one row per kiosk per
-- statement, not per punch). Only sessions of a kiosk's own login are counted and limited: IT and tests may load
-- punches in bulk.
CREATE TABLE kiosk_usage (
  kiosk_id        bigint NOT NULL REFERENCES kiosks (id) ON DELETE CASCADE,
  hour            timestamptz NOT NULL,
  punches         integer NOT NULL DEFAULT 0,
  snapshots       integer NOT NULL DEFAULT 0,
  snapshot_bytes  bigint NOT NULL DEFAULT 0,
  PRIMARY KEY (kiosk_id, hour)
);
GRANT SELECT ON kiosk_usage TO {{admin}};

CREATE FUNCTION clockface_session_is_kiosk_login() RETURNS boolean
LANGUAGE sql STABLE SET search_path = public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member
                 WHERE r.rolname = session_user AND m.roleid = {{kiosk:literal}}::regrole)
$$;

CREATE FUNCTION count_kiosk_punches() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  per_hour integer := (SELECT s.kiosk_punches_per_hour FROM central_settings s);
  r record;
  total integer;
BEGIN
  IF NOT clockface_session_is_kiosk_login() THEN
    RETURN NULL;
  END IF;
  FOR r IN SELECT n.kiosk_id, count(*)::int AS n FROM new_punches n GROUP BY n.kiosk_id LOOP
    INSERT INTO kiosk_usage AS u (kiosk_id, hour, punches) VALUES (r.kiosk_id, date_trunc('hour', clock_timestamp()), r.n)
      ON CONFLICT (kiosk_id, hour) DO UPDATE SET punches = u.punches + excluded.punches
      RETURNING u.punches INTO total;
    IF total > per_hour THEN
      RAISE EXCEPTION 'kiosk % has sent % punches this hour, over its limit of %', r.kiosk_id, total, per_hour
        USING ERRCODE = 'CFL01', HINT = 'The punches stay queued on the kiosk and go next hour. IT can raise central_settings.kiosk_punches_per_hour.';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER punches_count_per_kiosk AFTER INSERT ON punches REFERENCING NEW TABLE AS new_punches
  FOR EACH STATEMENT EXECUTE FUNCTION count_kiosk_punches();

CREATE FUNCTION count_kiosk_snapshots() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  per_hour integer := (SELECT s.kiosk_snapshots_per_hour FROM central_settings s);
  r record;
  total integer;
BEGIN
  IF NOT clockface_session_is_kiosk_login() THEN
    RETURN NULL;
  END IF;
  FOR r IN SELECT p.kiosk_id, count(*)::int AS n, sum(octet_length(n.jpeg))::bigint AS bytes
           FROM new_snapshots n JOIN punches p ON p.id = n.punch_id GROUP BY p.kiosk_id LOOP
    INSERT INTO kiosk_usage AS u (kiosk_id, hour, snapshots, snapshot_bytes)
      VALUES (r.kiosk_id, date_trunc('hour', clock_timestamp()), r.n, r.bytes)
      ON CONFLICT (kiosk_id, hour) DO UPDATE SET snapshots = u.snapshots + excluded.snapshots,
                                                 snapshot_bytes = u.snapshot_bytes + excluded.snapshot_bytes
      RETURNING u.snapshots INTO total;
    IF total > per_hour THEN
      RAISE EXCEPTION 'kiosk % has sent % audit snapshots this hour, over its limit of %', r.kiosk_id, total, per_hour
        USING ERRCODE = 'CFL01', HINT = 'IT can raise central_settings.kiosk_snapshots_per_hour.';
    END IF;
  END LOOP;
  RETURN NULL;
END
$$;
CREATE TRIGGER punch_snapshots_count_per_kiosk AFTER INSERT ON punch_snapshots REFERENCING NEW TABLE AS new_snapshots
  FOR EACH STATEMENT EXECUTE FUNCTION count_kiosk_snapshots();

-- ---------------------------------------------------------------------------------------------------------------
-- The kiosk's own row: written only by kiosk_heartbeat (kiosks have no UPDATE right left, 0070), with values a
-- terminal can print. Bad values already stored are cleared first, since the checks cover every row.
CREATE FUNCTION kiosks_server_last_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Central's clock, whoever writes the row.
  IF NEW.last_seen_at IS DISTINCT FROM OLD.last_seen_at AND NEW.last_seen_at IS NOT NULL THEN
    NEW.last_seen_at := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER kiosks_last_seen BEFORE UPDATE ON kiosks FOR EACH ROW EXECUTE FUNCTION kiosks_server_last_seen();

UPDATE kiosks SET app_version = NULL WHERE app_version IS NOT NULL AND NOT clockface_printable(app_version, 64);
UPDATE kiosks SET last_seen_at = NULL WHERE last_seen_at IS NOT NULL AND NOT isfinite(last_seen_at);
UPDATE kiosks SET clock_offset_ms = NULL WHERE abs(clock_offset_ms) > 315576000000;
ALTER TABLE kiosks ADD CONSTRAINT kiosks_app_version_printable CHECK (app_version IS NULL OR clockface_printable(app_version, 64));
ALTER TABLE kiosks ADD CONSTRAINT kiosks_last_seen_finite CHECK (last_seen_at IS NULL OR isfinite(last_seen_at));
ALTER TABLE kiosks ADD CONSTRAINT kiosks_clock_offset_plausible CHECK (abs(clock_offset_ms) <= 315576000000); -- 10 years
-- What the kiosk said at its last heartbeat about its outbox: punches waiting, and of those, refused by central.
ALTER TABLE kiosks ADD COLUMN pending_punches integer CHECK (pending_punches >= 0);
ALTER TABLE kiosks ADD COLUMN refused_punches integer CHECK (refused_punches >= 0);

-- The heartbeat: "this kiosk is alive, runs this version, has this many punches waiting". A heartbeat that matches
-- no kiosk (wrong id, revoked) is an error with its own SQLSTATE (CFK04), never counted as contact. Each heartbeat
-- also ends kiosk sessions stalled in a transaction (end_stalled_kiosk_sessions, 0070), whoever left them.
-- Returns central's clock, for the kiosk's clock-offset measurement.
CREATE FUNCTION kiosk_heartbeat(for_kiosk bigint, p_app_version text, p_pending integer DEFAULT NULL, p_refused integer DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not registered for this login, or was revoked', for_kiosk USING ERRCODE = 'CFK04';
  END IF;
  IF NOT clockface_printable(p_app_version, 64) THEN
    RAISE EXCEPTION 'app version must be 1 to 64 printable characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE kiosks SET last_seen_at = now(), app_version = p_app_version,
                    pending_punches = greatest(p_pending, 0), refused_punches = greatest(p_refused, 0)
  WHERE id = for_kiosk;
  PERFORM end_stalled_kiosk_sessions();
  RETURN clock_timestamp();
END
$$;

-- The kiosk's clock offset from central's as it measured it around its heartbeat (0060). Bounded by the check above.
CREATE FUNCTION kiosk_report_clock_offset(for_kiosk bigint, p_offset_ms bigint) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not registered for this login, or was revoked', for_kiosk USING ERRCODE = 'CFK04';
  END IF;
  UPDATE kiosks SET clock_offset_ms = p_offset_ms WHERE id = for_kiosk;
END
$$;
REVOKE ALL ON FUNCTION kiosk_heartbeat(bigint, text, integer, integer), kiosk_report_clock_offset(bigint, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_heartbeat(bigint, text, integer, integer), kiosk_report_clock_offset(bigint, bigint)
  TO {{kiosk}}, {{admin}};

-- ---------------------------------------------------------------------------------------------------------------
-- Enrolment from a kiosk, bounded and visible to IT.
--
-- The old kiosk_enrol took the duplicate threshold from the caller and compared with every site's faces: bisecting
-- its yes/no answer over the threshold rebuilt another site's template, in rolled-back calls that left no trace.
-- Now the guard compares only with the sites the kiosk serves (faces the kiosk can read anyway), at central's own
-- threshold, by an exact scan (an approximate index scan filtered to a few sites can miss the one that matters).
-- Cross-site duplicates are IT's check: `clockface roster duplicates`. Committed enrolments are limited per kiosk
-- and day, and every template and employee a kiosk adds names the kiosk (`clockface kiosk list` shows the counts).
ALTER TABLE face_templates ADD COLUMN enrolled_by_kiosk bigint REFERENCES kiosks (id);
ALTER TABLE employees ADD COLUMN enrolled_by_kiosk bigint REFERENCES kiosks (id);
CREATE INDEX face_templates_enrolled_by_kiosk ON face_templates (enrolled_by_kiosk, created_at) WHERE enrolled_by_kiosk IS NOT NULL;
CREATE INDEX employees_enrolled_by_kiosk ON employees (enrolled_by_kiosk, created_at) WHERE enrolled_by_kiosk IS NOT NULL;

DROP FUNCTION kiosk_enrol(bigint, text, text, text, vector[], real);

CREATE FUNCTION kiosk_enrol(for_kiosk bigint, p_employee_no text, p_full_name text, p_model_id text, p_embeddings vector[])
RETURNS TABLE (employee_id bigint, employee_no text, full_name text, templates_added integer,
               duplicate_employee_no text, duplicate_full_name text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  settings central_settings%ROWTYPE;
  served text[];
  emp employees%ROWTYPE;
  e vector;
  dup record;
  recent integer;
  added integer := 0;
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not this login''s kiosk, or is revoked', for_kiosk USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF coalesce(array_ndims(p_embeddings), 0) <> 1 OR coalesce(cardinality(p_embeddings), 0) NOT BETWEEN 1 AND 10 THEN
    RAISE EXCEPTION 'between 1 and 10 templates per enrolment, as a one-dimensional array'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  -- What a kiosk types ends up on IT's terminal and in payroll's spreadsheet.
  IF NOT clockface_printable(p_employee_no, 64) OR (p_full_name IS NOT NULL AND NOT clockface_printable(btrim(p_full_name), 200)) THEN
    RAISE EXCEPTION 'employee number and name must be printable text (no control or invisible characters)'
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT * INTO settings FROM central_settings;
  served := ARRAY(SELECT k.site FROM kiosks k WHERE k.id = for_kiosk
                  UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = for_kiosk);

  SELECT count(*) INTO recent FROM face_templates t
  WHERE t.enrolled_by_kiosk = for_kiosk AND t.created_at > now() - interval '1 day';
  IF recent + cardinality(p_embeddings) > settings.kiosk_enrol_templates_per_day THEN
    RAISE EXCEPTION 'this kiosk has enrolled % faces in the last 24 hours; its limit is %', recent,
      settings.kiosk_enrol_templates_per_day
      USING ERRCODE = 'CFL01', HINT = 'Enrol with `clockface enroll`, or IT can raise central_settings.kiosk_enrol_templates_per_day.';
  END IF;

  -- KEY SHARE, not UPDATE: enough to keep the row from being deleted, and it blocks none of IT's updates. A session
  -- that calls this and then sits in its transaction holds no lock IT needs except against `employee erase`, whose
  -- wait end_stalled_kiosk_sessions ends.
  SELECT * INTO emp FROM employees x WHERE x.employee_no = p_employee_no FOR KEY SHARE;
  IF FOUND THEN
    IF emp.site <> ALL (served) OR NOT emp.active OR emp.erased_at IS NOT NULL THEN
      RAISE EXCEPTION 'employee % is not an active employee of a site this kiosk serves', p_employee_no
        USING ERRCODE = 'insufficient_privilege';
    END IF;
  ELSE
    IF p_full_name IS NULL OR btrim(p_full_name) = '' THEN
      RAISE EXCEPTION 'no employee %: give a full name to create them', p_employee_no USING ERRCODE = 'no_data_found';
    END IF;
    SELECT count(*) INTO recent FROM employees x
    WHERE x.enrolled_by_kiosk = for_kiosk AND x.created_at > now() - interval '1 day';
    IF recent >= settings.kiosk_enrol_employees_per_day THEN
      RAISE EXCEPTION 'this kiosk has added % employees in the last 24 hours; its limit is %', recent,
        settings.kiosk_enrol_employees_per_day
        USING ERRCODE = 'CFL01', HINT = 'Add people with `clockface roster import`, or IT can raise central_settings.kiosk_enrol_employees_per_day.';
    END IF;
  END IF;

  FOREACH e IN ARRAY p_embeddings LOOP
    WITH near AS MATERIALIZED (
      SELECT x.employee_no AS no, x.full_name AS name, (t.embedding <-> e) AS distance
      FROM face_templates t JOIN employees x ON x.id = t.employee_id
      WHERE x.site = ANY (served) AND x.employee_no <> p_employee_no AND t.model_id = p_model_id
    )
    SELECT near.no, near.name INTO dup FROM near
    WHERE near.distance <= settings.duplicate_face_threshold ORDER BY near.distance LIMIT 1;
    IF FOUND THEN
      RETURN QUERY SELECT emp.id, p_employee_no, coalesce(emp.full_name, p_full_name), 0, dup.no::text, dup.name::text;
      RETURN;
    END IF;
  END LOOP;

  IF emp.id IS NULL THEN
    -- A new employee belongs to the kiosk's own site.
    INSERT INTO employees (employee_no, full_name, site, consent_at, enrolled_by_kiosk)
      SELECT p_employee_no, btrim(p_full_name), k.site, now(), for_kiosk FROM kiosks k WHERE k.id = for_kiosk
      RETURNING * INTO emp;
  END IF;
  FOREACH e IN ARRAY p_embeddings LOOP
    INSERT INTO face_templates (employee_id, model_id, embedding, source, enrolled_by_kiosk)
      VALUES (emp.id, p_model_id, e, 'kiosk', for_kiosk);
    added := added + 1;
  END LOOP;
  RETURN QUERY SELECT emp.id, emp.employee_no, emp.full_name, added, NULL::text, NULL::text;
END
$$;
REVOKE ALL ON FUNCTION kiosk_enrol(bigint, text, text, text, vector[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_enrol(bigint, text, text, text, vector[]) TO {{kiosk}}, {{admin}};
