-- Timesheets (issue 17): attendance rules and schedules per site, corrections of punches with approvals, an
-- append-only audit log, and supervisors scoped to sites.
--
-- Raw punches stay as the kiosks sent them: nobody but the schema owner updates or deletes them (0070 grants IT
-- SELECT only). A correction is a new row (add a punch, move one, void one), with a reason, the login that asked and
-- when; its decision is another new row. Neither is ever updated. The timesheet engine (shared/timesheet/) applies
-- the approved ones on top of the raw punches.
--
-- A supervisor is a login of its own, member of {{supervisor}} only, created by the registrar's functions (IT needs no
-- CREATEROLE). Row-level security decides what it sees: the sites it oversees, their employees (without PIN hashes),
-- their punches, corrections, rules, schedules and audit rows; never a face template or a snapshot. It changes
-- nothing directly: it asks for corrections and decides them through the functions below, which check its sites.
-- Each rule has a case in test/faults/central-supervisor.test.ts that fails when the rule is removed.

-- ---------------------------------------------------------------------------------------------------------------
-- The supervisor group.
ALTER TABLE clockface_roles DROP CONSTRAINT clockface_roles_kind_check;
ALTER TABLE clockface_roles ADD CONSTRAINT clockface_roles_kind_check
  CHECK (kind IN ('kiosk', 'admin', 'registrar', 'supervisor'));
CREATE ROLE {{supervisor}} NOLOGIN;
INSERT INTO clockface_roles (kind, role_name) VALUES ('supervisor', {{supervisor:literal}});
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %s', current_database(), {{supervisor:literal}}::regrole);
  -- As 0070 did for the kiosk group: on PostgreSQL 16+ CREATEROLE alone no longer lets the registrar add members.
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION, INHERIT FALSE, SET FALSE', {{supervisor:literal}}, {{registrar:literal}});
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO {{supervisor}};

-- Supervisor logins, and the sites each oversees. Written only by the registrar's functions.
CREATE TABLE supervisors (
  role_name   name PRIMARY KEY,
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  name NOT NULL DEFAULT session_user
);
CREATE TABLE supervisor_sites (
  role_name  name NOT NULL REFERENCES supervisors (role_name) ON DELETE CASCADE,
  site       text NOT NULL REFERENCES sites (code) ON UPDATE CASCADE,
  PRIMARY KEY (role_name, site)
);
ALTER TABLE supervisors ENABLE ROW LEVEL SECURITY;
ALTER TABLE supervisor_sites ENABLE ROW LEVEL SECURITY;

-- The sites the calling login oversees; none for anyone who is not a supervisor. session_user, because SET ROLE
-- cannot change it. Definer: it reads supervisor_sites for the policies below, whoever queries.
CREATE FUNCTION clockface_supervised_sites() RETURNS SETOF text
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT s.site FROM supervisor_sites s
  WHERE s.role_name = session_user AND pg_has_role(session_user, {{supervisor:literal}}, 'MEMBER')
$$;
REVOKE ALL ON FUNCTION clockface_supervised_sites() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION clockface_supervised_sites() TO {{supervisor}}, {{admin}};

-- ---------------------------------------------------------------------------------------------------------------
-- Rules and schedules. The shape of `rules` and `schedule` is the timesheet engine's (shared/timesheet/rules.ts,
-- schedule.ts), checked by the CLI before it writes; central keeps them as given. No row: the default rules (nothing
-- about today's reports changes) and no schedule (no late, left-early or absent flags).
CREATE TABLE site_rules (
  site             text PRIMARY KEY REFERENCES sites (code) ON UPDATE CASCADE,
  rules            jsonb NOT NULL CHECK (jsonb_typeof(rules) = 'object'),
  -- The two-person rule: a correction needs a second login's approval, and the one who asked cannot give it.
  second_approval  boolean NOT NULL DEFAULT false,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  updated_by       name NOT NULL DEFAULT session_user
);
CREATE TABLE site_schedules (
  site        text PRIMARY KEY REFERENCES sites (code) ON UPDATE CASCADE,
  schedule    jsonb NOT NULL CHECK (jsonb_typeof(schedule) = 'object'),
  updated_at  timestamptz NOT NULL DEFAULT now(),
  updated_by  name NOT NULL DEFAULT session_user
);
CREATE TABLE employee_schedules (
  employee_id  bigint PRIMARY KEY REFERENCES employees (id),
  schedule     jsonb NOT NULL CHECK (jsonb_typeof(schedule) = 'object'),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  updated_by   name NOT NULL DEFAULT session_user
);
ALTER TABLE site_rules ENABLE ROW LEVEL SECURITY;
ALTER TABLE site_schedules ENABLE ROW LEVEL SECURITY;
ALTER TABLE employee_schedules ENABLE ROW LEVEL SECURITY;

-- ---------------------------------------------------------------------------------------------------------------
-- Corrections and their decisions: append-only.
CREATE TABLE punch_corrections (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('add', 'move', 'void')),
  employee_id   bigint NOT NULL REFERENCES employees (id),
  -- add: the new punch's own id, so that a later move or void can name it; move, void: the punch they change (a raw
  -- punch, or one an earlier correction added).
  punch_id      uuid NOT NULL,
  direction     text CHECK (direction IN ('in', 'out')),
  at            timestamptz CHECK (at IS NULL OR isfinite(at)),
  reason        text NOT NULL CHECK (clockface_printable(reason, 500) AND length(btrim(reason)) > 0),
  requested_by  name NOT NULL DEFAULT session_user,
  requested_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  CHECK ((kind = 'add') = (direction IS NOT NULL)),
  CHECK ((kind = 'void') = (at IS NULL))
);
CREATE UNIQUE INDEX punch_corrections_added_punch ON punch_corrections (punch_id) WHERE kind = 'add';
CREATE INDEX punch_corrections_by_punch ON punch_corrections (punch_id);
CREATE INDEX punch_corrections_by_employee ON punch_corrections (employee_id, id);

CREATE TABLE correction_decisions (
  correction_id  bigint PRIMARY KEY REFERENCES punch_corrections (id),
  approved       boolean NOT NULL,
  decided_by     name NOT NULL DEFAULT session_user,
  decided_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  reason         text CHECK (reason IS NULL OR clockface_printable(reason, 500))
);
ALTER TABLE punch_corrections ENABLE ROW LEVEL SECURITY;
ALTER TABLE correction_decisions ENABLE ROW LEVEL SECURITY;

-- A correction with its status, as the CLI and the console read it (with the reader's own row-level security).
CREATE VIEW punch_correction_status WITH (security_invoker = true) AS
  SELECT c.id, c.kind, c.employee_id, c.punch_id, c.direction, c.at, c.reason, c.requested_by, c.requested_at,
         CASE WHEN d.correction_id IS NULL THEN 'pending' WHEN d.approved THEN 'approved' ELSE 'rejected' END AS status,
         d.decided_by, d.decided_at, d.reason AS decision_reason
  FROM punch_corrections c LEFT JOIN correction_decisions d ON d.correction_id = c.id;

-- ---------------------------------------------------------------------------------------------------------------
-- The audit log: who did what, when, with what before and after. Rows are written only by the definer functions and
-- triggers below; no role but the owner may update or delete one (nobody is granted either).
CREATE TABLE audit_log (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at           timestamptz NOT NULL DEFAULT clock_timestamp(),
  login        name NOT NULL DEFAULT session_user,
  kind         text NOT NULL,
  site         text,
  employee_id  bigint,
  subject      text,
  before       jsonb,
  after        jsonb
);
CREATE INDEX audit_log_by_time ON audit_log (at);
CREATE INDEX audit_log_by_employee ON audit_log (employee_id, at);
CREATE INDEX audit_log_by_site ON audit_log (site, at);
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;

-- One audit row, as the calling login (session_user: inside a definer function current_user is the owner). Internal.
CREATE FUNCTION clockface_audit(p_kind text, p_site text, p_employee_id bigint, p_subject text, p_before jsonb, p_after jsonb)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  INSERT INTO audit_log (login, kind, site, employee_id, subject, before, after)
  VALUES (session_user, p_kind, p_site, p_employee_id, p_subject, p_before, p_after)
$$;
REVOKE ALL ON FUNCTION clockface_audit(text, text, bigint, text, jsonb, jsonb) FROM PUBLIC;

CREATE FUNCTION audit_correction() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM clockface_audit('correction.requested', (SELECT e.site FROM employees e WHERE e.id = NEW.employee_id),
                          NEW.employee_id, 'correction ' || NEW.id, NULL, to_jsonb(NEW));
  RETURN NULL;
END
$$;
CREATE TRIGGER punch_corrections_audit AFTER INSERT ON punch_corrections FOR EACH ROW EXECUTE FUNCTION audit_correction();

CREATE FUNCTION audit_decision() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  c punch_corrections;
BEGIN
  SELECT * INTO c FROM punch_corrections x WHERE x.id = NEW.correction_id;
  PERFORM clockface_audit(CASE WHEN NEW.approved THEN 'correction.approved' ELSE 'correction.rejected' END,
                          (SELECT e.site FROM employees e WHERE e.id = c.employee_id), c.employee_id,
                          'correction ' || NEW.correction_id, NULL, to_jsonb(NEW));
  RETURN NULL;
END
$$;
CREATE TRIGGER correction_decisions_audit AFTER INSERT ON correction_decisions FOR EACH ROW EXECUTE FUNCTION audit_decision();

-- Rules and schedules: before and after.
CREATE FUNCTION audit_site_setting() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  row_before jsonb := CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END;
  row_after jsonb := CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END;
  v_employee bigint := (coalesce(row_after, row_before) ->> 'employee_id')::bigint;
  v_site text := coalesce(coalesce(row_after, row_before) ->> 'site', (SELECT e.site FROM employees e WHERE e.id = v_employee));
BEGIN
  PERFORM clockface_audit(CASE TG_TABLE_NAME WHEN 'site_rules' THEN 'rules.changed' ELSE 'schedule.changed' END,
                          v_site, v_employee, TG_TABLE_NAME, row_before, row_after);
  RETURN NULL;
END
$$;
CREATE TRIGGER site_rules_audit AFTER INSERT OR UPDATE OR DELETE ON site_rules FOR EACH ROW EXECUTE FUNCTION audit_site_setting();
CREATE TRIGGER site_schedules_audit AFTER INSERT OR UPDATE OR DELETE ON site_schedules FOR EACH ROW EXECUTE FUNCTION audit_site_setting();
CREATE TRIGGER employee_schedules_audit AFTER INSERT OR UPDATE OR DELETE ON employee_schedules FOR EACH ROW EXECUTE FUNCTION audit_site_setting();

-- Deactivation, activation and erasure of an employee (not the biometric data itself: only the fact and the times).
CREATE FUNCTION audit_employee_status() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM clockface_audit(
    CASE WHEN NEW.erased_at IS NOT NULL AND OLD.erased_at IS NULL THEN 'employee.erased'
         WHEN NEW.active AND NOT OLD.active THEN 'employee.activated'
         ELSE 'employee.deactivated' END,
    NEW.site, NEW.id, NEW.employee_no,
    jsonb_build_object('active', OLD.active, 'erased_at', OLD.erased_at),
    jsonb_build_object('active', NEW.active, 'erased_at', NEW.erased_at));
  RETURN NULL;
END
$$;
CREATE TRIGGER employees_status_audit AFTER UPDATE OF active, erased_at ON employees FOR EACH ROW
  WHEN (OLD.active IS DISTINCT FROM NEW.active OR OLD.erased_at IS DISTINCT FROM NEW.erased_at)
  EXECUTE FUNCTION audit_employee_status();

-- A kiosk added, revoked or dropped.
CREATE FUNCTION audit_kiosk() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM clockface_audit('kiosk.added', NEW.site, NULL, NEW.name, NULL, jsonb_build_object('name', NEW.name, 'site', NEW.site));
  ELSIF NEW.dropped_at IS NOT NULL AND OLD.dropped_at IS NULL THEN
    PERFORM clockface_audit('kiosk.dropped', NEW.site, NULL, NEW.name, NULL, NULL);
  ELSIF NEW.revoked_at IS NOT NULL AND OLD.revoked_at IS NULL THEN
    PERFORM clockface_audit('kiosk.revoked', NEW.site, NULL, NEW.name, NULL, NULL);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER kiosks_audit AFTER INSERT OR UPDATE OF revoked_at, dropped_at ON kiosks FOR EACH ROW EXECUTE FUNCTION audit_kiosk();

-- Supervisors given or taken a site.
CREATE FUNCTION audit_supervisor_site() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    PERFORM clockface_audit('supervisor.site_added', NEW.site, NULL, NEW.role_name, NULL, NULL);
  ELSE
    PERFORM clockface_audit('supervisor.site_removed', OLD.site, NULL, OLD.role_name, NULL, NULL);
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER supervisor_sites_audit AFTER INSERT OR DELETE ON supervisor_sites FOR EACH ROW EXECUTE FUNCTION audit_supervisor_site();

REVOKE ALL ON FUNCTION audit_correction(), audit_decision(), audit_site_setting(), audit_employee_status(), audit_kiosk(),
  audit_supervisor_site() FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------------------
-- What each group reads. IT reads everything new; a supervisor its sites only.
CREATE POLICY admin_read ON supervisors FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON supervisor_sites FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON site_rules FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON site_schedules FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON employee_schedules FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON punch_corrections FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON correction_decisions FOR SELECT TO {{admin}} USING (true);
CREATE POLICY admin_read ON audit_log FOR SELECT TO {{admin}} USING (true);
GRANT SELECT ON supervisors, supervisor_sites, site_rules, site_schedules, employee_schedules, punch_corrections,
  correction_decisions, punch_correction_status, audit_log TO {{admin}};

CREATE POLICY supervisor_own_row ON supervisors FOR SELECT TO {{supervisor}} USING (role_name = session_user);
CREATE POLICY supervisor_own_sites ON supervisor_sites FOR SELECT TO {{supervisor}} USING (role_name = session_user);
CREATE POLICY supervisor_sites_read ON sites FOR SELECT TO {{supervisor}}
  USING (code = ANY (ARRAY(SELECT clockface_supervised_sites())));
CREATE POLICY supervisor_employees_read ON employees FOR SELECT TO {{supervisor}}
  USING (site = ANY (ARRAY(SELECT clockface_supervised_sites())));
-- Punches of the supervised sites' employees, wherever they punched.
CREATE POLICY supervisor_punches_read ON punches FOR SELECT TO {{supervisor}}
  USING (EXISTS (SELECT 1 FROM employees e WHERE e.id = punches.employee_id));
CREATE POLICY supervisor_kiosks_read ON kiosks FOR SELECT TO {{supervisor}}
  USING (site = ANY (ARRAY(SELECT clockface_supervised_sites())));
CREATE POLICY supervisor_rules_read ON site_rules FOR SELECT TO {{supervisor}}
  USING (site = ANY (ARRAY(SELECT clockface_supervised_sites())));
CREATE POLICY supervisor_schedules_read ON site_schedules FOR SELECT TO {{supervisor}}
  USING (site = ANY (ARRAY(SELECT clockface_supervised_sites())));
CREATE POLICY supervisor_employee_schedules_read ON employee_schedules FOR SELECT TO {{supervisor}}
  USING (EXISTS (SELECT 1 FROM employees e WHERE e.id = employee_schedules.employee_id));
CREATE POLICY supervisor_corrections_read ON punch_corrections FOR SELECT TO {{supervisor}}
  USING (EXISTS (SELECT 1 FROM employees e WHERE e.id = punch_corrections.employee_id));
CREATE POLICY supervisor_decisions_read ON correction_decisions FOR SELECT TO {{supervisor}}
  USING (EXISTS (SELECT 1 FROM punch_corrections c WHERE c.id = correction_decisions.correction_id));
CREATE POLICY supervisor_audit_read ON audit_log FOR SELECT TO {{supervisor}}
  USING (site = ANY (ARRAY(SELECT clockface_supervised_sites())));
-- Columns: an employee's PIN hash is for the kiosks' offline PIN pad, not for supervisors; a kiosk's login and
-- heartbeat figures are IT's.
GRANT SELECT (code, name, time_zone) ON sites TO {{supervisor}};
GRANT SELECT (id, employee_no, full_name, department, site, active, created_at, updated_at, erased_at) ON employees TO {{supervisor}};
GRANT SELECT (id, name, site, revoked_at) ON kiosks TO {{supervisor}};
GRANT SELECT ON punches, supervisors, supervisor_sites, site_rules, site_schedules, employee_schedules, punch_corrections,
  correction_decisions, punch_correction_status, audit_log TO {{supervisor}};
-- The migration ledger, so that the CLI can check the schema version for a supervisor as for IT.
GRANT SELECT ON clockface_migrations TO {{supervisor}};

-- ---------------------------------------------------------------------------------------------------------------
-- Corrections, through functions that check who asks and what.

-- The site of an employee the caller may correct: IT any, a supervisor those of its sites. To a supervisor an
-- employee of another site and one that does not exist look the same. Internal.
CREATE FUNCTION clockface_correctable_site(p_employee_id bigint) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  s text;
BEGIN
  SELECT e.site INTO s FROM employees e WHERE e.id = p_employee_id;
  IF s IS NOT NULL AND (clockface_caller_is_admin() OR s = ANY (ARRAY(SELECT clockface_supervised_sites()))) THEN
    RETURN s;
  END IF;
  IF clockface_caller_is_admin() THEN
    RAISE EXCEPTION 'no employee with id %', p_employee_id USING ERRCODE = 'CFE02';
  END IF;
  RAISE EXCEPTION 'that employee is not at a site you supervise' USING ERRCODE = 'insufficient_privilege';
END
$$;
REVOKE ALL ON FUNCTION clockface_correctable_site(bigint) FROM PUBLIC;

-- A reason a person can read later, and a time that is neither in the future (5 minutes' tolerance for clocks) nor
-- older than the window kiosks may punch in (0080). Internal.
CREATE FUNCTION clockface_check_correction(p_at timestamptz, p_reason text, p_needs_time boolean) RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF p_reason IS NULL OR length(btrim(p_reason)) = 0 OR NOT clockface_printable(p_reason, 500) THEN
    RAISE EXCEPTION 'give a reason (up to 500 printable characters)' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_needs_time AND (p_at IS NULL OR NOT isfinite(p_at)) THEN
    RAISE EXCEPTION 'give the time of the punch' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_at > clock_timestamp() + interval '5 minutes' THEN
    RAISE EXCEPTION 'the time % is in the future', p_at USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_at < clock_timestamp() - interval '3 years' THEN
    RAISE EXCEPTION 'the time % is more than 3 years ago', p_at USING ERRCODE = 'invalid_parameter_value';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION clockface_check_correction(timestamptz, text, boolean) FROM PUBLIC;

-- Records a correction; approved at once unless the employee's site has the two-person rule. Internal.
CREATE FUNCTION clockface_record_correction(p_kind text, p_employee_id bigint, p_punch_id uuid, p_direction text,
                                           p_at timestamptz, p_reason text)
RETURNS TABLE (correction_id bigint, status text)
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_site text := clockface_correctable_site(p_employee_id);
  new_id bigint;
BEGIN
  INSERT INTO punch_corrections (kind, employee_id, punch_id, direction, at, reason, requested_by)
  VALUES (p_kind, p_employee_id, p_punch_id, p_direction, p_at, btrim(p_reason), session_user)
  RETURNING id INTO new_id;
  IF coalesce((SELECT r.second_approval FROM site_rules r WHERE r.site = v_site), false) THEN
    RETURN QUERY SELECT new_id, 'pending'::text;
  ELSE
    INSERT INTO correction_decisions (correction_id, approved, decided_by, reason)
    VALUES (new_id, true, session_user, NULL);
    RETURN QUERY SELECT new_id, 'approved'::text;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION clockface_record_correction(text, bigint, uuid, text, timestamptz, text) FROM PUBLIC;

-- The punch a move or void names, as the employee it belongs to: a raw punch, or one an earlier correction added
-- (not rejected). Refused when it is voided already (approved or pending), so that a void is never moved or voided
-- twice. Internal.
CREATE FUNCTION clockface_correctable_punch(p_punch_id uuid) RETURNS bigint
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who bigint;
BEGIN
  SELECT p.employee_id INTO who FROM punches p WHERE p.id = p_punch_id;
  IF who IS NULL THEN
    SELECT c.employee_id INTO who FROM punch_correction_status c
    WHERE c.kind = 'add' AND c.punch_id = p_punch_id AND c.status <> 'rejected';
  END IF;
  IF who IS NULL THEN
    RAISE EXCEPTION 'no punch %', p_punch_id USING ERRCODE = 'CFP01';
  END IF;
  PERFORM clockface_correctable_site(who);
  IF EXISTS (SELECT 1 FROM punch_correction_status c WHERE c.kind = 'void' AND c.punch_id = p_punch_id AND c.status <> 'rejected') THEN
    RAISE EXCEPTION 'punch % is voided already', p_punch_id USING ERRCODE = 'CFP02';
  END IF;
  RETURN who;
END
$$;
REVOKE ALL ON FUNCTION clockface_correctable_punch(uuid) FROM PUBLIC;

-- Adds a punch someone forgot (a missing OUT): direction and time, with a reason.
CREATE FUNCTION correction_add(p_employee_no text, p_direction text, p_at timestamptz, p_reason text)
RETURNS TABLE (correction_id bigint, punch_id uuid, status text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who bigint;
  new_punch uuid := gen_random_uuid();
  r record;
BEGIN
  SELECT e.id INTO who FROM employees e WHERE e.employee_no = p_employee_no;
  IF who IS NULL THEN
    IF clockface_caller_is_admin() THEN
      RAISE EXCEPTION 'no employee "%"', p_employee_no USING ERRCODE = 'CFE02';
    END IF;
    RAISE EXCEPTION 'that employee is not at a site you supervise' USING ERRCODE = 'insufficient_privilege';
  END IF;
  -- Scope first: to a supervisor, another site's employee must look like no employee, whatever else is wrong.
  PERFORM clockface_correctable_site(who);
  IF p_direction IS NULL OR p_direction NOT IN ('in', 'out') THEN
    RAISE EXCEPTION 'the direction is in or out' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  PERFORM clockface_check_correction(p_at, p_reason, true);
  SELECT * INTO r FROM clockface_record_correction('add', who, new_punch, p_direction, p_at, p_reason);
  RETURN QUERY SELECT r.correction_id, new_punch, r.status;
END
$$;

-- Moves a punch to another time.
CREATE FUNCTION correction_move(p_punch_id uuid, p_at timestamptz, p_reason text)
RETURNS TABLE (correction_id bigint, status text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who bigint := clockface_correctable_punch(p_punch_id);
BEGIN
  PERFORM clockface_check_correction(p_at, p_reason, true);
  RETURN QUERY SELECT * FROM clockface_record_correction('move', who, p_punch_id, NULL, p_at, p_reason);
END
$$;

-- Voids a punch (a double punch, a punch by the wrong person): it stays, and stops counting.
CREATE FUNCTION correction_void(p_punch_id uuid, p_reason text)
RETURNS TABLE (correction_id bigint, status text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who bigint := clockface_correctable_punch(p_punch_id);
BEGIN
  PERFORM clockface_check_correction(NULL, p_reason, false);
  RETURN QUERY SELECT * FROM clockface_record_correction('void', who, p_punch_id, NULL, NULL, p_reason);
END
$$;

-- Approves or rejects a pending correction. Under the two-person rule, not the login that asked for it.
CREATE FUNCTION correction_decide(p_correction_id bigint, p_approve boolean, p_reason text DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  c punch_corrections;
  v_site text;
BEGIN
  SELECT * INTO c FROM punch_corrections x WHERE x.id = p_correction_id FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no correction %', p_correction_id USING ERRCODE = 'CFC01';
  END IF;
  v_site := clockface_correctable_site(c.employee_id);
  IF p_approve IS NULL THEN
    RAISE EXCEPTION 'approve or reject' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_reason IS NOT NULL AND NOT clockface_printable(p_reason, 500) THEN
    RAISE EXCEPTION 'the reason must be up to 500 printable characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF EXISTS (SELECT 1 FROM correction_decisions d WHERE d.correction_id = p_correction_id) THEN
    RAISE EXCEPTION 'correction % was decided already', p_correction_id USING ERRCODE = 'CFC02';
  END IF;
  IF c.requested_by = session_user AND coalesce((SELECT r.second_approval FROM site_rules r WHERE r.site = v_site), false) THEN
    RAISE EXCEPTION 'site % needs a second person to decide a correction: you asked for this one', v_site USING ERRCODE = 'CFC03';
  END IF;
  INSERT INTO correction_decisions (correction_id, approved, decided_by, reason)
  VALUES (p_correction_id, p_approve, session_user, nullif(btrim(p_reason), ''));
  RETURN CASE WHEN p_approve THEN 'approved' ELSE 'rejected' END;
END
$$;

REVOKE ALL ON FUNCTION correction_add(text, text, timestamptz, text), correction_move(uuid, timestamptz, text),
  correction_void(uuid, text), correction_decide(bigint, boolean, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION correction_add(text, text, timestamptz, text), correction_move(uuid, timestamptz, text),
  correction_void(uuid, text), correction_decide(bigint, boolean, text) TO {{admin}}, {{supervisor}};

-- ---------------------------------------------------------------------------------------------------------------
-- Rules and schedules: IT sets them (a supervisor reads them).
CREATE FUNCTION site_rules_set(p_site text, p_rules jsonb, p_second_approval boolean) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_admin() THEN
    RAISE EXCEPTION 'only IT may change rules' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM sites s WHERE s.code = p_site) THEN
    RAISE EXCEPTION 'no site "%"', p_site USING ERRCODE = 'CFS01';
  END IF;
  IF p_rules IS NULL OR jsonb_typeof(p_rules) <> 'object' OR p_second_approval IS NULL THEN
    RAISE EXCEPTION 'rules are a JSON object, and the two-person rule on or off' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  INSERT INTO site_rules (site, rules, second_approval, updated_at, updated_by)
  VALUES (p_site, p_rules, p_second_approval, now(), session_user)
  ON CONFLICT (site) DO UPDATE SET rules = excluded.rules, second_approval = excluded.second_approval,
    updated_at = excluded.updated_at, updated_by = excluded.updated_by;
END
$$;

-- A site's default shifts (null: none); an employee's own (null: the site's).
CREATE FUNCTION site_schedule_set(p_site text, p_schedule jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_admin() THEN
    RAISE EXCEPTION 'only IT may change schedules' USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM sites s WHERE s.code = p_site) THEN
    RAISE EXCEPTION 'no site "%"', p_site USING ERRCODE = 'CFS01';
  END IF;
  IF p_schedule IS NULL THEN
    DELETE FROM site_schedules WHERE site = p_site;
  ELSIF jsonb_typeof(p_schedule) <> 'object' THEN
    RAISE EXCEPTION 'a schedule is a JSON object' USING ERRCODE = 'invalid_parameter_value';
  ELSE
    INSERT INTO site_schedules (site, schedule, updated_at, updated_by) VALUES (p_site, p_schedule, now(), session_user)
    ON CONFLICT (site) DO UPDATE SET schedule = excluded.schedule, updated_at = excluded.updated_at, updated_by = excluded.updated_by;
  END IF;
END
$$;

CREATE FUNCTION employee_schedule_set(p_employee_no text, p_schedule jsonb) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  who bigint;
BEGIN
  IF NOT clockface_caller_is_admin() THEN
    RAISE EXCEPTION 'only IT may change schedules' USING ERRCODE = 'insufficient_privilege';
  END IF;
  SELECT e.id INTO who FROM employees e WHERE e.employee_no = p_employee_no;
  IF who IS NULL THEN
    RAISE EXCEPTION 'no employee "%"', p_employee_no USING ERRCODE = 'CFE02';
  END IF;
  IF p_schedule IS NULL THEN
    DELETE FROM employee_schedules WHERE employee_id = who;
  ELSIF jsonb_typeof(p_schedule) <> 'object' THEN
    RAISE EXCEPTION 'a schedule is a JSON object' USING ERRCODE = 'invalid_parameter_value';
  ELSE
    INSERT INTO employee_schedules (employee_id, schedule, updated_at, updated_by) VALUES (who, p_schedule, now(), session_user)
    ON CONFLICT (employee_id) DO UPDATE SET schedule = excluded.schedule, updated_at = excluded.updated_at, updated_by = excluded.updated_by;
  END IF;
END
$$;
REVOKE ALL ON FUNCTION site_rules_set(text, jsonb, boolean), site_schedule_set(text, jsonb), employee_schedule_set(text, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION site_rules_set(text, jsonb, boolean), site_schedule_set(text, jsonb), employee_schedule_set(text, jsonb) TO {{admin}};

-- ---------------------------------------------------------------------------------------------------------------
-- Supervisor logins, through the registrar (as kiosk logins in 0070): IT chooses the name and sends a SCRAM verifier
-- of the password the CLI made and shows once.

-- A role the registrar may manage as a supervisor: recorded here, a member of {{supervisor}} and of nothing else, no
-- attribute. Internal.
CREATE FUNCTION clockface_is_supervisor_login(role_name name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM supervisors s WHERE s.role_name = clockface_is_supervisor_login.role_name)
     AND EXISTS (
       SELECT 1 FROM pg_roles r
       WHERE r.rolname = clockface_is_supervisor_login.role_name
         AND NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls)
         AND (SELECT array_agg(DISTINCT m.roleid) FROM pg_auth_members m WHERE m.member = r.oid) = ARRAY[{{supervisor:literal}}::regrole::oid]
     )
$$;
REVOKE ALL ON FUNCTION clockface_is_supervisor_login(name) FROM PUBLIC;

-- The sites given, all of which must exist, as a sorted set. Internal.
CREATE FUNCTION clockface_checked_sites(p_sites text[]) RETURNS text[]
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  missing text;
BEGIN
  IF p_sites IS NULL OR cardinality(p_sites) = 0 THEN
    RAISE EXCEPTION 'give at least one site' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  SELECT x INTO missing FROM unnest(p_sites) x WHERE NOT EXISTS (SELECT 1 FROM sites s WHERE s.code = x) LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'no site "%"', missing USING ERRCODE = 'CFS01';
  END IF;
  RETURN ARRAY(SELECT DISTINCT x FROM unnest(p_sites) x ORDER BY x);
END
$$;
REVOKE ALL ON FUNCTION clockface_checked_sites(text[]) FROM PUBLIC;

CREATE FUNCTION supervisor_register(p_login text, p_verifier text, p_sites text[]) RETURNS name
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_sites text[];
BEGIN
  PERFORM clockface_require_admin();
  -- Lower case, so that the login is typed as shown; never a name of PostgreSQL's or Clockface's own.
  IF p_login IS NULL OR p_login !~ '^[a-z][a-z0-9_.-]{2,62}$' OR p_login ~ '^(pg_|clockface)' THEN
    RAISE EXCEPTION 'invalid login "%" (3 to 63 of a-z 0-9 _ . -, starting with a letter, not pg_ or clockface)', p_login
      USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_verifier IS NULL OR p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
    RAISE EXCEPTION 'the password must be given as a SCRAM-SHA-256 verifier' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  v_sites := clockface_checked_sites(p_sites);
  IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = p_login) THEN
    RAISE EXCEPTION 'a login named "%" exists on this server', p_login USING ERRCODE = 'CFU01';
  END IF;
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
                 'CONNECTION LIMIT 4 PASSWORD %L IN ROLE %I', p_login, p_verifier, {{supervisor:literal}});
  -- The registrar becomes a member of the login, so that it may end its sessions and drop what it owns.
  EXECUTE format('GRANT %I TO %I', p_login, {{registrar:literal}});
  PERFORM clockface_kiosk_login_defaults(p_login::name);
  INSERT INTO supervisors (role_name, created_by) VALUES (p_login, session_user);
  INSERT INTO supervisor_sites (role_name, site) SELECT p_login, x FROM unnest(v_sites) x;
  RETURN p_login::name;
END
$$;

CREATE FUNCTION supervisor_set_sites(p_login text, p_sites text[]) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_sites text[];
BEGIN
  PERFORM clockface_require_admin();
  IF NOT clockface_is_supervisor_login(p_login) THEN
    RAISE EXCEPTION 'no supervisor "%"', p_login USING ERRCODE = 'CFU02';
  END IF;
  v_sites := clockface_checked_sites(p_sites);
  DELETE FROM supervisor_sites s WHERE s.role_name = p_login AND s.site <> ALL (v_sites);
  INSERT INTO supervisor_sites (role_name, site) SELECT p_login, x FROM unnest(v_sites) x ON CONFLICT DO NOTHING;
END
$$;

-- Ends the supervisor's sessions and drops the login; its corrections and audit rows keep its name.
CREATE FUNCTION supervisor_remove(p_login text) RETURNS void
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM clockface_require_admin();
  PERFORM set_config('lock_timeout', '10s', true);
  IF NOT clockface_is_supervisor_login(p_login) THEN
    RAISE EXCEPTION 'no supervisor "%"', p_login USING ERRCODE = 'CFU02';
  END IF;
  EXECUTE format('ALTER ROLE %I NOLOGIN', p_login);
  PERFORM clockface_end_sessions_of(p_login::name);
  EXECUTE format('DROP OWNED BY %I', p_login);
  EXECUTE format('DROP ROLE %I', p_login);
  DELETE FROM supervisors s WHERE s.role_name = p_login;
END
$$;

-- What the registrar needs for these, and nothing more.
GRANT SELECT, INSERT, DELETE ON supervisors, supervisor_sites TO {{registrar}};
CREATE POLICY registrar_all ON supervisors TO {{registrar}} USING (true) WITH CHECK (true);
CREATE POLICY registrar_all ON supervisor_sites TO {{registrar}} USING (true) WITH CHECK (true);

GRANT {{registrar}} TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO {{registrar}};
ALTER FUNCTION clockface_is_supervisor_login(name) OWNER TO {{registrar}};
ALTER FUNCTION clockface_checked_sites(text[]) OWNER TO {{registrar}};
ALTER FUNCTION supervisor_register(text, text, text[]) OWNER TO {{registrar}};
ALTER FUNCTION supervisor_set_sites(text, text[]) OWNER TO {{registrar}};
ALTER FUNCTION supervisor_remove(text) OWNER TO {{registrar}};
REVOKE ALL ON FUNCTION supervisor_register(text, text, text[]), supervisor_set_sites(text, text[]), supervisor_remove(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION supervisor_register(text, text, text[]), supervisor_set_sites(text, text[]), supervisor_remove(text) TO {{admin}};
REVOKE CREATE ON SCHEMA public FROM {{registrar}};
REVOKE {{registrar}} FROM CURRENT_USER;
