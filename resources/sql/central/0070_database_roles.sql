-- Per-database group roles, and kiosk logins managed without CREATEROLE (issue 13, items 1, 5, 6, 11).
--
-- {{kiosk}}, {{admin}} and {{registrar}} are this database's own group roles, filled in by the migrator
-- (electron/central/database-roles.ts) and recorded in clockface_roles. Why:
--
-- 1. Roles are cluster-wide. Until now every Clockface database on a server shared clockface_admin and
--    clockface_kiosk, so an IT login of one database administered all of them (read another's PIN hashes, set its
--    kiosks' passwords). Everything this database granted to those two now goes to its own groups, and CONNECT is no
--    longer open to every login of the server. The old roles stay (other databases may still use them); once every
--    Clockface database on a server is migrated they hold nothing and may be dropped.
--
-- 2. On PostgreSQL 15 (Debian 12's), a role with CREATEROLE may grant itself predefined roles such as
--    pg_execute_server_program: an IT login that could create kiosk logins could run a shell as the postgres OS user.
--    So no login needs CREATEROLE any more. The registrar (NOLOGIN, CREATEROLE, no members) owns the SECURITY DEFINER
--    functions below, which create, re-key, revoke and drop kiosk logins and nothing else: the role names are made
--    here, never taken from the caller, and every role they touch must be a plain member of {{kiosk}}.
--
-- Who may call them: a superuser, the owner of the schema (the migrating login) or a member of {{admin}}
-- (clockface_caller_is_admin). Kiosk rows are written only by these functions: an IT login that could set
-- kiosks.role_name could point "revoke" at any role.

CREATE TABLE clockface_roles (
  kind       text PRIMARY KEY CHECK (kind IN ('kiosk', 'admin', 'registrar')),
  role_name  name NOT NULL UNIQUE
);

CREATE ROLE {{kiosk}} NOLOGIN;
CREATE ROLE {{admin}} NOLOGIN;
CREATE ROLE {{registrar}} NOLOGIN CREATEROLE;
INSERT INTO clockface_roles (kind, role_name) VALUES
  ('kiosk', {{kiosk:literal}}), ('admin', {{admin:literal}}), ('registrar', {{registrar:literal}});

-- ---------------------------------------------------------------------------------------------------------------
-- The shared roles lose everything they held here. Revoking table privileges revokes the column privileges too.
DO $$
DECLARE
  old text;
BEGIN
  FOREACH old IN ARRAY ARRAY['clockface_kiosk', 'clockface_admin'] LOOP
    IF to_regrole(old) IS NOT NULL THEN
      EXECUTE format('REVOKE ALL ON ALL TABLES IN SCHEMA public FROM %I', old);
      EXECUTE format('REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM %I', old);
      EXECUTE format('REVOKE ALL ON ALL FUNCTIONS IN SCHEMA public FROM %I', old);
      EXECUTE format('REVOKE ALL ON SCHEMA public FROM %I', old);
      EXECUTE format('REVOKE ALL ON DATABASE %I FROM %I', current_database(), old);
    END IF;
  END LOOP;
  -- Only this database's groups (and superusers, and the owner) may connect; TEMPORARY stays for IT only (0050).
  EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %s, %s', current_database(), {{kiosk:literal}}::regrole, {{admin:literal}}::regrole);
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO %s', current_database(), {{admin:literal}}::regrole);
END
$$;

ALTER POLICY admin_all ON sites TO {{admin}};
ALTER POLICY admin_all ON employees TO {{admin}};
ALTER POLICY admin_all ON face_templates TO {{admin}};
ALTER POLICY admin_all ON kiosks TO {{admin}};
ALTER POLICY admin_all ON kiosk_sites TO {{admin}};
ALTER POLICY admin_all ON roster_changes TO {{admin}};
ALTER POLICY admin_all ON punches TO {{admin}};
ALTER POLICY admin_all ON punch_snapshots TO {{admin}};

ALTER POLICY kiosk_own_row ON kiosks TO {{kiosk}};
ALTER POLICY kiosk_own_sites ON kiosk_sites TO {{kiosk}};
ALTER POLICY kiosk_served_sites ON sites TO {{kiosk}};
ALTER POLICY kiosk_served_employees ON employees TO {{kiosk}};
ALTER POLICY kiosk_served_templates ON face_templates TO {{kiosk}};
ALTER POLICY kiosk_served_changes ON roster_changes TO {{kiosk}};
ALTER POLICY kiosk_own_punches_read ON punches TO {{kiosk}};
ALTER POLICY kiosk_own_punches_write ON punches TO {{kiosk}};
ALTER POLICY kiosk_own_snapshots_write ON punch_snapshots TO {{kiosk}};
-- A kiosk no longer updates its row at all: its heartbeat is a function (0080). An UPDATE grant, even on two columns,
-- also let it lock the row (SELECT … FOR UPDATE) and so hold `kiosk revoke` back.
DROP POLICY kiosk_own_heartbeat ON kiosks;

-- ---------------------------------------------------------------------------------------------------------------
-- What IT may do directly. Punches are SELECT only: raw punches are records, changed by nobody but the schema owner.
-- Kiosk rows only through the functions below.
GRANT USAGE ON SCHEMA public TO {{kiosk}}, {{admin}};
GRANT SELECT, INSERT, UPDATE, DELETE ON sites, employees, face_models, face_templates, kiosk_sites, roster_changes,
  roster_feed_state, punch_snapshots TO {{admin}};
GRANT SELECT ON kiosks, punches, clockface_migrations, clockface_roles TO {{admin}};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {{admin}};
GRANT EXECUTE ON FUNCTION prune_roster_changes(interval) TO {{admin}};
GRANT EXECUTE ON FUNCTION kiosk_last_punches(bigint, timestamptz) TO {{kiosk}}, {{admin}};

GRANT SELECT ON sites, employees, face_models, face_templates, kiosks, kiosk_sites, roster_changes,
  roster_feed_state TO {{kiosk}};
GRANT SELECT, INSERT ON punches TO {{kiosk}};
GRANT INSERT ON punch_snapshots TO {{kiosk}};

-- A kiosk row that no longer has a login role (kiosk drop); the row stays because its punches name it.
ALTER TABLE kiosks ADD COLUMN dropped_at timestamptz;

-- ---------------------------------------------------------------------------------------------------------------
-- Settings central keeps for itself: a kiosk can neither read nor change them, so it cannot pass its own threshold
-- to the duplicate-face guard (which made kiosk_enrol an oracle), nor lift its own limits. IT may change them.
CREATE TABLE central_settings (
  singleton                       boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  -- The duplicate-face guard of kiosk enrolment (the kiosk's default match threshold).
  duplicate_face_threshold        real NOT NULL DEFAULT 0.55 CHECK (duplicate_face_threshold BETWEEN 0.2 AND 1),
  -- Per kiosk. A busy door makes about one punch every 3 s (1,200 an hour); the punch limit leaves room for a kiosk
  -- that comes back from a week offline to send its backlog, and stops one that sends 200,000 in seconds.
  kiosk_punches_per_hour          integer NOT NULL DEFAULT 20000 CHECK (kiosk_punches_per_hour > 0),
  kiosk_snapshots_per_hour        integer NOT NULL DEFAULT 1200 CHECK (kiosk_snapshots_per_hour >= 0),
  kiosk_enrol_templates_per_day   integer NOT NULL DEFAULT 100 CHECK (kiosk_enrol_templates_per_day >= 0),
  kiosk_enrol_employees_per_day   integer NOT NULL DEFAULT 25 CHECK (kiosk_enrol_employees_per_day >= 0),
  -- A kiosk session idle in a transaction this long is ended by end_stalled_kiosk_sessions (below). A kiosk's own
  -- transactions are never idle for more than a network round trip.
  kiosk_stalled_after             interval NOT NULL DEFAULT '2 minutes'
                                  CHECK (kiosk_stalled_after BETWEEN interval '1 second' AND interval '1 hour')
);
INSERT INTO central_settings DEFAULT VALUES;
GRANT SELECT, UPDATE ON central_settings TO {{admin}};

-- ---------------------------------------------------------------------------------------------------------------
-- Who is calling. session_user is the login (SET ROLE cannot change it); the owner of the kiosks table is the login
-- that migrated this database.
-- Reads only public catalogs, about the session's own login: safe for anyone to call.
CREATE FUNCTION clockface_caller_is_admin() RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = session_user AND r.rolsuper)
      OR pg_has_role(session_user, {{admin:literal}}, 'MEMBER')
      OR pg_has_role(session_user, (SELECT c.relowner FROM pg_class c WHERE c.oid = 'public.kiosks'::regclass), 'MEMBER')
$$;

CREATE OR REPLACE FUNCTION clockface_caller_is_kiosk(for_kiosk bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM kiosks k
    WHERE k.id = for_kiosk AND k.revoked_at IS NULL AND (k.role_name = session_user OR clockface_caller_is_admin())
  )
$$;

-- A role the registrar may touch: a plain LOGIN member of this database's kiosk group and of nothing else, with no
-- attribute beyond LOGIN. Checked on every role name read from the kiosks table, so that a damaged or tampered row
-- can never turn "revoke" or "drop" against another role.
CREATE FUNCTION clockface_is_kiosk_login(role_name name) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM pg_roles r
    WHERE r.rolname = role_name AND role_name LIKE 'clockface\_kiosk\_%'
      AND NOT (r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls)
      AND (SELECT array_agg(DISTINCT m.roleid) FROM pg_auth_members m WHERE m.member = r.oid) = ARRAY[{{kiosk:literal}}::regrole::oid]
  )
$$;
REVOKE ALL ON FUNCTION clockface_is_kiosk_login(name) FROM PUBLIC;

CREATE FUNCTION clockface_require_admin() RETURNS void
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_admin() THEN
    RAISE EXCEPTION 'only IT (a member of %) may manage kiosk logins', {{admin:literal}} USING ERRCODE = 'insufficient_privilege';
  END IF;
END
$$;
REVOKE ALL ON FUNCTION clockface_require_admin() FROM PUBLIC;

-- Ends every session of one login and waits (up to 5 s each) until they are gone, so that what the caller does next
-- (update the kiosk's row, drop the role) does not wait on that session's locks. Internal: only the definer
-- functions below call it.
CREATE FUNCTION clockface_end_sessions_of(role_name name) RETURNS integer
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  pids integer[];
  p integer;
  ended integer := 0;
BEGIN
  pids := ARRAY(SELECT a.pid FROM pg_stat_activity a WHERE a.usename = role_name AND a.pid <> pg_backend_pid());
  FOREACH p IN ARRAY pids LOOP
    IF pg_terminate_backend(p, 5000) THEN
      ended := ended + 1;
    END IF;
  END LOOP;
  RETURN ended;
END
$$;
REVOKE ALL ON FUNCTION clockface_end_sessions_of(name) FROM PUBLIC;

-- ---------------------------------------------------------------------------------------------------------------
-- The registrar's functions.

-- Creates the kiosk row and its login. p_verifier is a SCRAM-SHA-256 verifier made by the client (the clear password
-- never reaches the server); p_connection_limit caps the kiosk's sessions (it uses about 3), so one stolen login
-- cannot take every connection slot of the server. The login gets server-side limits a well-behaved kiosk never
-- reaches; the kiosk app sets them again at every connect (a kiosk can change its own role's defaults).
CREATE FUNCTION kiosk_register(p_name text, p_site text, p_verifier text, p_connection_limit integer DEFAULT 8)
RETURNS TABLE (kiosk_id bigint, role_name name)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  new_role name;
  new_id bigint;
BEGIN
  PERFORM clockface_require_admin();
  IF p_name IS NULL OR p_name !~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$' THEN
    RAISE EXCEPTION 'invalid kiosk name "%" (letters, digits, _ . -)', p_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_verifier IS NULL OR p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
    RAISE EXCEPTION 'the password must be given as a SCRAM-SHA-256 verifier' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_connection_limit IS NULL OR p_connection_limit NOT BETWEEN 1 AND 32 THEN
    RAISE EXCEPTION 'connection limit % is outside 1..32', p_connection_limit USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF NOT EXISTS (SELECT 1 FROM sites s WHERE s.code = p_site) THEN
    RAISE EXCEPTION 'no site "%"', p_site USING ERRCODE = 'CFS01';
  END IF;
  IF EXISTS (SELECT 1 FROM kiosks k WHERE k.name = p_name) THEN
    RAISE EXCEPTION 'a kiosk named "%" exists', p_name USING ERRCODE = 'CFK02';
  END IF;
  -- Cluster-wide names: a random suffix keeps two databases on one server (or two tests) apart.
  new_role := 'clockface_kiosk_' || left(regexp_replace(lower(p_name), '[^a-z0-9_]', '_', 'g'), 32) || '_'
              || left(replace(gen_random_uuid()::text, '-', ''), 8);
  EXECUTE format('CREATE ROLE %I LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS '
                 'CONNECTION LIMIT %s PASSWORD %L IN ROLE %I',
                 new_role, p_connection_limit, p_verifier, {{kiosk:literal}});
  -- The registrar becomes a member of the login, so that it may end the login's sessions and drop what it owns.
  EXECUTE format('GRANT %I TO %I', new_role, {{registrar:literal}});
  PERFORM clockface_kiosk_login_defaults(new_role);
  INSERT INTO kiosks (name, role_name, site) VALUES (p_name, new_role, p_site) RETURNING id INTO new_id;
  RETURN QUERY SELECT new_id, new_role;
END
$$;

-- Server-side defaults of a kiosk login: no statement may run 2 minutes, no transaction may sit idle for 2 minutes
-- (either would hold the roster feed back for every kiosk), no lock wait past 30 s. Internal.
CREATE FUNCTION clockface_kiosk_login_defaults(role_name name) RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  EXECUTE format('ALTER ROLE %I RESET ALL', role_name);
  EXECUTE format('ALTER ROLE %I IN DATABASE %I RESET ALL', role_name, current_database());
  EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', role_name, '2min');
  EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L', role_name, '2min');
  EXECUTE format('ALTER ROLE %I SET lock_timeout = %L', role_name, '30s');
END
$$;
REVOKE ALL ON FUNCTION clockface_kiosk_login_defaults(name) FROM PUBLIC;

-- The kiosk row of p_name, with its role checked. Internal.
CREATE FUNCTION clockface_kiosk_for_registrar(p_name text) RETURNS kiosks
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  k kiosks;
BEGIN
  SELECT * INTO k FROM kiosks x WHERE x.name = p_name;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no kiosk named "%"', p_name USING ERRCODE = 'CFK01';
  END IF;
  IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = k.role_name) AND NOT clockface_is_kiosk_login(k.role_name) THEN
    RAISE EXCEPTION 'kiosk "%" names role %, which is not a plain kiosk login; refusing to touch it', p_name, k.role_name
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN k;
END
$$;
REVOKE ALL ON FUNCTION clockface_kiosk_for_registrar(text) FROM PUBLIC;

-- Revokes a kiosk in one transaction: login disabled and its own role defaults reset, its sessions ended (they hold
-- locks the next step may need), then the row marked. Waits at most 10 s for any lock, then fails whole. A login
-- attempt racing this transaction sees the role as it was until commit: the caller ends sessions once more after
-- committing (kiosk_end_sessions).
CREATE FUNCTION kiosk_revoke(p_name text) RETURNS TABLE (role_name name, sessions_ended integer)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  k kiosks;
  ended integer := 0;
BEGIN
  PERFORM clockface_require_admin();
  PERFORM set_config('lock_timeout', '10s', true);
  k := clockface_kiosk_for_registrar(p_name);
  IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = k.role_name) THEN
    EXECUTE format('ALTER ROLE %I NOLOGIN', k.role_name);
    PERFORM clockface_kiosk_login_defaults(k.role_name);
    ended := clockface_end_sessions_of(k.role_name);
  END IF;
  UPDATE kiosks SET revoked_at = coalesce(revoked_at, now()) WHERE id = k.id;
  RETURN QUERY SELECT k.role_name, ended;
END
$$;

-- Ends the sessions of a revoked kiosk's login (the second pass after kiosk_revoke has committed).
CREATE FUNCTION kiosk_end_sessions(p_name text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  k kiosks;
BEGIN
  PERFORM clockface_require_admin();
  k := clockface_kiosk_for_registrar(p_name);
  IF k.revoked_at IS NULL THEN
    RAISE EXCEPTION 'kiosk "%" is not revoked', p_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  RETURN clockface_end_sessions_of(k.role_name);
END
$$;

-- A new password for a kiosk (given as a verifier): the remedy when a kiosk's password leaked, or when someone with
-- it changed it (PostgreSQL lets every login change its own password). Resets the login's defaults and ends every
-- session that used the old password.
CREATE FUNCTION kiosk_rekey(p_name text, p_verifier text) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  k kiosks;
BEGIN
  PERFORM clockface_require_admin();
  PERFORM set_config('lock_timeout', '10s', true);
  IF p_verifier IS NULL OR p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
    RAISE EXCEPTION 'the password must be given as a SCRAM-SHA-256 verifier' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  k := clockface_kiosk_for_registrar(p_name);
  IF k.revoked_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = k.role_name) THEN
    RAISE EXCEPTION 'kiosk "%" is revoked; register a new kiosk instead', p_name USING ERRCODE = 'invalid_parameter_value';
  END IF;
  EXECUTE format('ALTER ROLE %I LOGIN PASSWORD %L', k.role_name, p_verifier);
  PERFORM clockface_kiosk_login_defaults(k.role_name);
  RETURN clockface_end_sessions_of(k.role_name);
END
$$;

-- Drops a kiosk's login (revoking it first if needed) and everything the login owns in this database: large objects,
-- default privileges, grants, which a stolen login can create to make DROP ROLE fail. The kiosk row stays, marked,
-- because punches name it. Objects the login made in OTHER databases of the server still block DROP ROLE: the error
-- says which database, and pg_hba.conf should not let kiosk logins reach other databases at all (docs/security.md).
CREATE FUNCTION kiosk_drop(p_name text) RETURNS name
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  k kiosks;
BEGIN
  PERFORM clockface_require_admin();
  PERFORM set_config('lock_timeout', '10s', true);
  k := clockface_kiosk_for_registrar(p_name);
  IF EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = k.role_name) THEN
    EXECUTE format('ALTER ROLE %I NOLOGIN', k.role_name);
    PERFORM clockface_end_sessions_of(k.role_name);
    EXECUTE format('DROP OWNED BY %I', k.role_name);
    BEGIN
      EXECUTE format('DROP ROLE %I', k.role_name);
    EXCEPTION WHEN dependent_objects_still_exist THEN
      DECLARE
        detail text;
      BEGIN
        GET STACKED DIAGNOSTICS detail = PG_EXCEPTION_DETAIL;
        RAISE EXCEPTION 'the login of kiosk "%" still owns objects or privileges in another database', p_name
          USING ERRCODE = 'CFK03', DETAIL = detail,
                HINT = format('Connect to that database as a superuser, run DROP OWNED BY %I, then drop the kiosk again.', k.role_name);
      END;
    END;
  END IF;
  UPDATE kiosks SET revoked_at = coalesce(revoked_at, now()), dropped_at = coalesce(dropped_at, now()) WHERE id = k.id;
  RETURN k.role_name;
END
$$;

-- Ends kiosk sessions that hold the server back: idle in a transaction for longer than idle_for (default
-- central_settings.kiosk_stalled_after, 2 minutes; a transaction
-- left open keeps its locks, and a transaction with an id holds back the roster feed of every kiosk), or in one
-- transaction for over 10 minutes. A kiosk can switch its own session's timeouts off; it cannot stop other logins
-- from calling this. Every kiosk heartbeat calls it with the default (0080); IT may pass a shorter idle_for when a
-- kiosk session blocks it. Only kiosk logins of this database are touched.
CREATE FUNCTION end_stalled_kiosk_sessions(idle_for interval DEFAULT NULL) RETURNS integer
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  setting interval := (SELECT s.kiosk_stalled_after FROM central_settings s);
  -- A kiosk may not make this shorter than central's setting; IT may, down to 5 s, when a kiosk session blocks it.
  floor_for interval := CASE WHEN clockface_caller_is_admin() THEN least(interval '5 seconds', setting) ELSE setting END;
  pids integer[];
  p integer;
  ended integer := 0;
BEGIN
  idle_for := greatest(coalesce(idle_for, setting), floor_for);
  -- Collected first, terminated after: a WHERE clause does not promise to test the cheap conditions first.
  pids := ARRAY(
    SELECT a.pid FROM pg_stat_activity a
    JOIN pg_auth_members m ON m.member = a.usesysid AND m.roleid = {{kiosk:literal}}::regrole
    WHERE a.pid <> pg_backend_pid() AND a.datname = current_database()
      AND ((a.state LIKE 'idle in transaction%' AND a.state_change < clock_timestamp() - idle_for)
           OR a.xact_start < clock_timestamp() - interval '10 minutes'));
  FOREACH p IN ARRAY pids LOOP
    IF pg_terminate_backend(p) THEN
      ended := ended + 1;
    END IF;
  END LOOP;
  RETURN ended;
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Kiosks registered before this migration: into this database's group, out of the shared one, under the registrar,
-- with a connection limit and the server-side defaults.
DO $$
DECLARE
  k record;
BEGIN
  FOR k IN SELECT x.role_name FROM kiosks x JOIN pg_roles r ON r.rolname = x.role_name LOOP
    EXECUTE format('GRANT %I TO %I', {{kiosk:literal}}, k.role_name);
    IF to_regrole('clockface_kiosk') IS NOT NULL THEN
      EXECUTE format('REVOKE clockface_kiosk FROM %I', k.role_name);
    END IF;
    EXECUTE format('GRANT %I TO %I', k.role_name, {{registrar:literal}});
    EXECUTE format('ALTER ROLE %I CONNECTION LIMIT 8', k.role_name);
    PERFORM clockface_kiosk_login_defaults(k.role_name);
  END LOOP;
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Ownership and grants of the registrar's functions. The registrar needs: the kiosk rows (read, insert, mark), the
-- sites (read), CREATE on public only for as long as it takes to hand it the functions (ALTER … OWNER requires it),
-- and on PostgreSQL 16+ ADMIN OPTION on the kiosk group (CREATEROLE alone no longer lets a role add members there).
GRANT SELECT, INSERT, UPDATE ON kiosks TO {{registrar}};
GRANT SELECT ON sites, central_settings TO {{registrar}};
CREATE POLICY registrar_all ON kiosks TO {{registrar}} USING (true) WITH CHECK (true);
CREATE POLICY registrar_read ON sites FOR SELECT TO {{registrar}} USING (true);

DO $$
BEGIN
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION, INHERIT FALSE, SET FALSE', {{kiosk:literal}}, {{registrar:literal}});
  END IF;
END
$$;

GRANT {{registrar}} TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO {{registrar}};
ALTER FUNCTION clockface_is_kiosk_login(name) OWNER TO {{registrar}};
ALTER FUNCTION clockface_require_admin() OWNER TO {{registrar}};
ALTER FUNCTION clockface_end_sessions_of(name) OWNER TO {{registrar}};
ALTER FUNCTION clockface_kiosk_login_defaults(name) OWNER TO {{registrar}};
ALTER FUNCTION clockface_kiosk_for_registrar(text) OWNER TO {{registrar}};
ALTER FUNCTION kiosk_register(text, text, text, integer) OWNER TO {{registrar}};
ALTER FUNCTION kiosk_revoke(text) OWNER TO {{registrar}};
ALTER FUNCTION kiosk_end_sessions(text) OWNER TO {{registrar}};
ALTER FUNCTION kiosk_rekey(text, text) OWNER TO {{registrar}};
ALTER FUNCTION kiosk_drop(text) OWNER TO {{registrar}};
ALTER FUNCTION end_stalled_kiosk_sessions(interval) OWNER TO {{registrar}};
-- Granted while the migrator still acts for the owner; then the migrator lets go of the registrar.
REVOKE ALL ON FUNCTION kiosk_register(text, text, text, integer), kiosk_revoke(text), kiosk_end_sessions(text),
  kiosk_rekey(text, text), kiosk_drop(text), end_stalled_kiosk_sessions(interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_register(text, text, text, integer), kiosk_revoke(text), kiosk_end_sessions(text),
  kiosk_rekey(text, text), kiosk_drop(text) TO {{admin}};
GRANT EXECUTE ON FUNCTION end_stalled_kiosk_sessions(interval) TO {{admin}}, {{kiosk}}, CURRENT_USER;
REVOKE CREATE ON SCHEMA public FROM {{registrar}};
REVOKE {{registrar}} FROM CURRENT_USER;

