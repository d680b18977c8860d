-- Stalled kiosk sessions are swept at most every few seconds for the whole fleet, not at every heartbeat (issue 19).
--
-- Both heartbeats (0080's and 0130's) ended stalled kiosk sessions at every call (end_stalled_kiosk_sessions, 0070).
-- That sweep reads pg_stat_activity, which grows with the fleet, so N kiosks paid O(N²) for it: the fleet bench
-- measured 31 of the heartbeat's 44 ms at 200 kiosks and 85 of 120 ms at 500, the largest single share of central's
-- time. Now a heartbeat sweeps only when the last sweep is older than kiosk_stalled_after or 10 seconds, whichever is
-- shorter. A stalled session is ended at most that much later than before: after 2 minutes and up to 10 s by default.
--
-- The time of the last sweep is one row that no heartbeat ever waits for. It is read without a lock, and written only
-- by a heartbeat that gets the row's lock at once (SKIP LOCKED); two heartbeats that both find the sweep due both
-- sweep, which is harmless. A session holding that lock (a stolen kiosk login that calls the heartbeat inside a
-- transaction and leaves it open, to stop the sweeps that would end it) stops nothing: its write stays invisible, the
-- last sweep grows old for everyone else, and the next heartbeat after kiosk_stalled_after ends that session.
--
-- Also: the old heartbeat (four arguments, still called by kiosks of releases before 0130) gets 0130's rule that a
-- session acting as a kiosk (SET ROLE) speaks for that kiosk only. Before, on the embedded central, where every
-- connection is the superuser, a session acting as one kiosk could write another kiosk's row through it.
CREATE TABLE kiosk_stall_sweeps (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  swept_at  timestamptz NOT NULL DEFAULT '-infinity'
);
INSERT INTO kiosk_stall_sweeps DEFAULT VALUES;
ALTER TABLE kiosk_stall_sweeps ENABLE ROW LEVEL SECURITY;
REVOKE ALL ON kiosk_stall_sweeps FROM PUBLIC;

-- Called by both heartbeats (as their owner, who owns the table). Not granted to anyone: a kiosk or IT who wants a
-- sweep now calls end_stalled_kiosk_sessions itself, as before.
CREATE FUNCTION clockface_sweep_stalled_if_due() RETURNS void
LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, public, pg_temp AS $$
DECLARE
  every interval := least((SELECT s.kiosk_stalled_after FROM central_settings s), interval '10 seconds');
BEGIN
  IF (SELECT w.swept_at FROM kiosk_stall_sweeps w) > clock_timestamp() - every THEN
    RETURN;
  END IF;
  PERFORM end_stalled_kiosk_sessions();
  PERFORM 1 FROM kiosk_stall_sweeps FOR UPDATE SKIP LOCKED;
  IF FOUND THEN
    UPDATE kiosk_stall_sweeps SET swept_at = clock_timestamp();
  END IF;
END
$$;
REVOKE ALL ON FUNCTION clockface_sweep_stalled_if_due() FROM PUBLIC;

-- The caller may speak for this kiosk: its own login, or IT (clockface_caller_is_kiosk, 0070); and a session that has
-- taken on a kiosk's role (SET ROLE: an IT login acting as a kiosk, or any connection of the embedded central, which
-- is always its superuser) speaks for that kiosk only. 0130's heartbeat wrote this rule out; both heartbeats use it
-- from here on. Called inside them, as their owner.
CREATE FUNCTION clockface_caller_speaks_for_kiosk(for_kiosk bigint) RETURNS boolean
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT clockface_caller_is_kiosk(for_kiosk)
     AND NOT (current_setting('role') <> 'none'
              AND EXISTS (SELECT 1 FROM kiosks k WHERE k.role_name = current_setting('role'))
              AND NOT EXISTS (SELECT 1 FROM kiosks k WHERE k.id = for_kiosk AND k.role_name = current_setting('role')))
$$;
REVOKE ALL ON FUNCTION clockface_caller_speaks_for_kiosk(bigint) FROM PUBLIC;

-- 0080's heartbeat, with the acting-kiosk rule and the throttled sweep; otherwise unchanged.
CREATE OR REPLACE FUNCTION kiosk_heartbeat(for_kiosk bigint, p_app_version text, p_pending integer DEFAULT NULL, p_refused integer DEFAULT NULL)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_speaks_for_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not registered for this login, or was revoked', for_kiosk USING ERRCODE = 'CFK04';
  END IF;
  IF NOT clockface_printable(p_app_version, 64) THEN
    RAISE EXCEPTION 'app version must be 1 to 64 printable characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE kiosks SET last_seen_at = now(), app_version = p_app_version,
                    pending_punches = greatest(p_pending, 0), refused_punches = greatest(p_refused, 0)
  WHERE id = for_kiosk;
  PERFORM clockface_sweep_stalled_if_due();
  RETURN clock_timestamp();
END
$$;

-- 0130's heartbeat with the throttled sweep; otherwise unchanged.
CREATE OR REPLACE FUNCTION kiosk_heartbeat(
  for_kiosk bigint, p_app_version text, p_pending integer, p_refused integer,
  p_heartbeat_seconds integer, p_oldest_pending_age_s integer, p_roster_watermark xid8, p_roster_sync_age_s integer,
  p_templates integer, p_vector_engine text, p_last_upload_error text)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
  IF NOT clockface_caller_speaks_for_kiosk(for_kiosk) THEN
    RAISE EXCEPTION 'kiosk % is not registered for this login, or was revoked', for_kiosk USING ERRCODE = 'CFK04';
  END IF;
  IF NOT clockface_printable(p_app_version, 64) THEN
    RAISE EXCEPTION 'app version must be 1 to 64 printable characters' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_vector_engine IS NOT NULL AND p_vector_engine !~ '^[a-z0-9][a-z0-9._-]{0,31}$' THEN
    RAISE EXCEPTION 'vector engine must be a short lower-case name' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  IF p_last_upload_error IS NOT NULL AND p_last_upload_error !~ '^[A-Z][A-Z0-9_]{0,63}$' THEN
    RAISE EXCEPTION 'last upload error must be an error code' USING ERRCODE = 'invalid_parameter_value';
  END IF;
  UPDATE kiosks SET last_seen_at = now(), app_version = p_app_version,
                    pending_punches = greatest(p_pending, 0), refused_punches = greatest(p_refused, 0),
                    health_reported_at = now(),
                    heartbeat_seconds = CASE WHEN p_heartbeat_seconds IS NOT NULL THEN least(greatest(p_heartbeat_seconds, 1), 86400) END,
                    oldest_pending_at = now() - make_interval(secs => CASE WHEN p_oldest_pending_age_s IS NOT NULL
                                                                            THEN least(greatest(p_oldest_pending_age_s, 0), 315576000) END),
                    roster_synced_at = now() - make_interval(secs => CASE WHEN p_roster_sync_age_s IS NOT NULL
                                                                           THEN least(greatest(p_roster_sync_age_s, 0), 315576000) END),
                    roster_watermark = p_roster_watermark,
                    templates_cached = CASE WHEN p_templates IS NOT NULL THEN greatest(p_templates, 0) END,
                    vector_engine = p_vector_engine,
                    last_upload_error = p_last_upload_error
  WHERE id = for_kiosk;
  PERFORM clockface_sweep_stalled_if_due();
  RETURN clock_timestamp();
END
$$;
