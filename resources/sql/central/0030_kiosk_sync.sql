-- Kiosk sync: what a kiosk needs from central besides the roster feed.

-- Whether the session's login may act for this kiosk: the kiosk's own login (session_user, which SET ROLE cannot
-- change), a superuser, or an administrator.
CREATE FUNCTION clockface_caller_is_kiosk(for_kiosk bigint) RETURNS boolean
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
  SELECT EXISTS (
    SELECT 1 FROM kiosks k
    WHERE k.id = for_kiosk AND k.revoked_at IS NULL
      AND (k.role_name = session_user
           OR EXISTS (SELECT 1 FROM pg_roles r WHERE r.rolname = session_user AND r.rolsuper)
           OR pg_has_role(session_user, 'clockface_admin', 'MEMBER'))
  )
$$;
REVOKE ALL ON FUNCTION clockface_caller_is_kiosk(bigint) FROM PUBLIC;

-- The latest punch per employee of the sites a kiosk serves, from every kiosk, so that the direction (in/out) is
-- right for someone who clocked in at another door. A kiosk cannot read other kiosks' punches (row-level
-- security), so this runs as its owner and returns only employee, direction and time, never which kiosk.
--
-- received_after lets a kiosk fetch only what arrived since its last call; the caller overlaps that
-- window, because received_at is the inserting transaction's start and a slow transaction commits late.
CREATE FUNCTION kiosk_last_punches(for_kiosk bigint, received_after timestamptz)
RETURNS TABLE (employee_id bigint, direction text, punched_at timestamptz, received_at timestamptz)
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not this login''s kiosk, or is revoked', for_kiosk USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN QUERY
    SELECT DISTINCT ON (p.employee_id) p.employee_id, p.direction, p.punched_at, p.received_at
    FROM punches p
    JOIN employees e ON e.id = p.employee_id
    WHERE e.site IN (SELECT k.site FROM kiosks k WHERE k.id = for_kiosk
                     UNION SELECT ks.site FROM kiosk_sites ks WHERE ks.kiosk_id = for_kiosk)
      AND p.employee_id IN (SELECT q.employee_id FROM punches q WHERE q.received_at > received_after)
    ORDER BY p.employee_id, p.punched_at DESC;
END
$$;
REVOKE ALL ON FUNCTION kiosk_last_punches(bigint, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_last_punches(bigint, timestamptz) TO clockface_kiosk, clockface_admin;

CREATE INDEX punches_received_at ON punches (received_at);
