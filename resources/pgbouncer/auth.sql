-- The auth lookup PgBouncer uses for Clockface's kiosks (resources/pgbouncer/pgbouncer.ini, docs/operations.md).
-- Run once per central database, as a superuser (only a superuser can read pg_authid):
--   psql -d clockface -v auth_role=clockface_pgbouncer -v auth_password='…' -f resources/pgbouncer/auth.sql
-- The auth role can do one thing: look up the SCRAM secret of a login that may log in, is not a superuser, and belongs
-- to one of this database's Clockface groups (a kiosk, a supervisor, IT, the kiosks' shared watch login). Its password
-- goes in PgBouncer's auth_file.
CREATE ROLE :"auth_role" LOGIN PASSWORD :'auth_password';

CREATE FUNCTION public.clockface_pgbouncer_lookup(p_user text) RETURNS TABLE (usename name, passwd text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT a.rolname, a.rolpassword
  FROM pg_authid a
  WHERE a.rolname = p_user AND a.rolcanlogin AND NOT a.rolsuper
    AND (a.rolvaliduntil IS NULL OR a.rolvaliduntil > now())
    AND EXISTS (SELECT 1 FROM public.clockface_roles r
                WHERE r.kind IN ('kiosk', 'supervisor', 'admin', 'watch') AND pg_has_role(a.oid, r.role_name::regrole, 'MEMBER'))
$$;
REVOKE ALL ON FUNCTION public.clockface_pgbouncer_lookup(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION public.clockface_pgbouncer_lookup(text) TO :"auth_role";
SELECT format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), :'auth_role') \gexec
