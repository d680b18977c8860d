-- Audit snapshots are looked at through central, and every look is recorded (issue 18).
--
-- Until now IT could SELECT a snapshot's JPEG like any row, and nothing said who had looked at whose face. Now the
-- picture comes only from punch_snapshot_view, which writes `snapshot.viewed` (who, when, which punch) to the audit
-- log in the same transaction: no look without its row. IT keeps reading which punches have a snapshot and when it
-- was taken (punch_id, created_at: what `snapshots purge` and erasure need), never the picture itself.
-- A supervisor may look at the snapshots of its sites' punches, the reason snapshots exist (was it really them?).
REVOKE SELECT ON punch_snapshots FROM {{admin}};
GRANT SELECT (punch_id, created_at) ON punch_snapshots TO {{admin}};

-- The site of a punch the caller may look at (IT any; a supervisor its sites); NULL otherwise. Internal.
CREATE FUNCTION clockface_viewable_punch_site(p_punch uuid) RETURNS TABLE (site text, employee_id bigint)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT e.site, e.id FROM punches p JOIN employees e ON e.id = p.employee_id
  WHERE p.id = p_punch AND (clockface_caller_is_admin() OR e.site = ANY (ARRAY(SELECT clockface_supervised_sites())))
$$;
REVOKE ALL ON FUNCTION clockface_viewable_punch_site(uuid) FROM PUBLIC;

-- Which of these punches have a snapshot, among those the caller may see (the day detail's "view" links).
CREATE FUNCTION punch_snapshots_of(p_punches uuid[]) RETURNS SETOF uuid
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT s.punch_id FROM punch_snapshots s JOIN punches p ON p.id = s.punch_id JOIN employees e ON e.id = p.employee_id
  WHERE s.punch_id = ANY (p_punches)
    AND (clockface_caller_is_admin() OR e.site = ANY (ARRAY(SELECT clockface_supervised_sites())))
$$;
REVOKE ALL ON FUNCTION punch_snapshots_of(uuid[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION punch_snapshots_of(uuid[]) TO {{admin}}, {{supervisor}};

-- The snapshot of one punch, recorded as viewed by the calling login. A punch the caller may not see and one without
-- a snapshot look the same (CFP01), so the function says nothing about other sites.
CREATE FUNCTION punch_snapshot_view(p_punch uuid) RETURNS bytea
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  v_site text;
  v_employee bigint;
  v_jpeg bytea;
BEGIN
  SELECT v.site, v.employee_id INTO v_site, v_employee FROM clockface_viewable_punch_site(p_punch) v;
  IF v_site IS NOT NULL THEN
    SELECT s.jpeg INTO v_jpeg FROM punch_snapshots s WHERE s.punch_id = p_punch;
  END IF;
  IF v_jpeg IS NULL THEN
    RAISE EXCEPTION 'no snapshot of that punch' USING ERRCODE = 'CFP01';
  END IF;
  PERFORM clockface_audit('snapshot.viewed', v_site, v_employee, 'punch ' || p_punch, NULL, NULL);
  RETURN v_jpeg;
END
$$;
REVOKE ALL ON FUNCTION punch_snapshot_view(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION punch_snapshot_view(uuid) TO {{admin}}, {{supervisor}};
