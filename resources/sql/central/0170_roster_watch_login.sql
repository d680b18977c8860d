-- One shared login for watching the roster head behind a transaction pooler (issue 19).
--
-- PgBouncer keeps a pool per login. A thousand kiosks each looking at roster_head every 2 s on its own login would
-- each need a server session every 2 s: a thousand pools that never go idle, far past any sensible cap on server
-- connections. So the looks go through one login all kiosks of a pooled deployment share, in one pool of a few
-- sessions; each kiosk's own login is used only for its own work (punches, heartbeats, roster reads), and its pool
-- goes idle between them.
--
-- What the shared password gives whoever finds it on a kiosk: roster_watch_head, the id of the latest roster change
-- of the sites it names. No row of anything. The login is made, and its password chosen, by IT through
-- kiosk_watch_login (registrar-owned, as kiosk logins are); `clockface kiosk add --pooler-url` puts it in each new
-- kiosk's settings. Its password is kept on central for that, readable only through that function.
ALTER TABLE clockface_roles DROP CONSTRAINT clockface_roles_kind_check;
ALTER TABLE clockface_roles ADD CONSTRAINT clockface_roles_kind_check
  CHECK (kind IN ('kiosk', 'admin', 'registrar', 'supervisor', 'watch'));
CREATE ROLE {{watch}} NOLOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
INSERT INTO clockface_roles (kind, role_name) VALUES ('watch', {{watch:literal}});
DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %s', current_database(), {{watch:literal}}::regrole);
  -- As 0070 and 0100 did: on PostgreSQL 16+ CREATEROLE alone no longer lets the registrar alter the role.
  IF current_setting('server_version_num')::int >= 160000 THEN
    EXECUTE format('GRANT %I TO %I WITH ADMIN OPTION, INHERIT FALSE, SET FALSE', {{watch:literal}}, {{registrar:literal}});
  END IF;
END
$$;
GRANT USAGE ON SCHEMA public TO {{watch}};

-- The roster head of any sites, for the watch login (which has no rows to see through the feed's policies): roster_head
-- (0160) run as this function's owner, who owns the feed. At most 64 sites a call.
CREATE FUNCTION roster_watch_head(p_sites text[]) RETURNS xid8
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT roster_head(p_sites[1:64])
$$;
REVOKE ALL ON FUNCTION roster_watch_head(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION roster_watch_head(text[]) TO {{watch}}, {{kiosk}}, {{admin}};

-- The watch login's password, as kiosk settings carry it. Nobody reads the table itself.
CREATE TABLE roster_watch_login (
  singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  password   text NOT NULL CHECK (length(password) >= 24),
  set_at     timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE roster_watch_login ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON roster_watch_login FROM PUBLIC;

-- The watch login for kiosk settings: made LOGIN with this password the first time (p_password in clear for the
-- settings, p_verifier for the role, both made by the caller), the stored one afterwards; p_rotate sets a new one
-- (every pooled kiosk then needs new settings: `kiosk rekey --pooler-url`). IT only.
CREATE FUNCTION kiosk_watch_login(p_password text, p_verifier text, p_rotate boolean DEFAULT false)
RETURNS TABLE (role_name name, password text)
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
BEGIN
  PERFORM clockface_require_admin();
  IF p_rotate OR NOT EXISTS (SELECT 1 FROM roster_watch_login) THEN
    IF p_verifier IS NULL OR p_verifier !~ '^SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
      RAISE EXCEPTION 'the password must be given as a SCRAM-SHA-256 verifier' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    -- A handful of sessions: behind PgBouncer all kiosks share its small pool.
    EXECUTE format('ALTER ROLE %I LOGIN CONNECTION LIMIT 16 PASSWORD %L', {{watch:literal}}, p_verifier);
    EXECUTE format('ALTER ROLE %I RESET ALL', {{watch:literal}});
    EXECUTE format('ALTER ROLE %I SET statement_timeout = %L', {{watch:literal}}, '5s');
    INSERT INTO roster_watch_login (password) VALUES (p_password)
      ON CONFLICT (singleton) DO UPDATE SET password = EXCLUDED.password, set_at = now();
  END IF;
  RETURN QUERY SELECT {{watch:literal}}::name, w.password FROM roster_watch_login w;
END
$$;

GRANT SELECT, INSERT, UPDATE ON roster_watch_login TO {{registrar}};
CREATE POLICY registrar_all ON roster_watch_login TO {{registrar}} USING (true) WITH CHECK (true);
GRANT {{registrar}} TO CURRENT_USER;
GRANT CREATE ON SCHEMA public TO {{registrar}};
ALTER FUNCTION kiosk_watch_login(text, text, boolean) OWNER TO {{registrar}};
REVOKE ALL ON FUNCTION kiosk_watch_login(text, text, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_watch_login(text, text, boolean) TO {{admin}};
REVOKE CREATE ON SCHEMA public FROM {{registrar}};
REVOKE {{registrar}} FROM CURRENT_USER;
