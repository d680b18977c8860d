-- The fleet's health (issue 18): what a kiosk says about itself at each heartbeat besides "alive, this version, this
-- many punches waiting", so that IT sees a kiosk in trouble (`clockface kiosk list`, the console's Kiosks page) before
-- someone's hours go missing: how old its oldest waiting punch is, when it last synced the roster and up to which
-- watermark, how many templates it holds, which vector engine it runs, the code of its last failed upload, and how
-- often it means to call (its poll interval: "offline" is judged by the kiosk's own rhythm, not a guess).
--
-- Additive only. A kiosk of the release before keeps calling kiosk_heartbeat(bigint, text, integer, integer), which is
-- unchanged; it leaves these columns alone, and health_reported_at tells a reader whether they belong to the latest
-- heartbeat (a kiosk put back on an older build must not show its last report as current).
--
-- Times are central's: the kiosk sends ages measured on its own clock (now minus the oldest punch, now minus its last
-- sync), and central subtracts them from its own now(). A kiosk clock that is off by hours then still gives the right
-- "how long ago", and every status is judged on one clock.
ALTER TABLE kiosks ADD COLUMN health_reported_at timestamptz CHECK (health_reported_at IS NULL OR isfinite(health_reported_at));
ALTER TABLE kiosks ADD COLUMN heartbeat_seconds integer CHECK (heartbeat_seconds BETWEEN 1 AND 86400);
ALTER TABLE kiosks ADD COLUMN oldest_pending_at timestamptz CHECK (oldest_pending_at IS NULL OR isfinite(oldest_pending_at));
ALTER TABLE kiosks ADD COLUMN roster_synced_at timestamptz CHECK (roster_synced_at IS NULL OR isfinite(roster_synced_at));
ALTER TABLE kiosks ADD COLUMN roster_watermark xid8;
ALTER TABLE kiosks ADD COLUMN templates_cached integer CHECK (templates_cached >= 0);
-- Tokens, not free text: they are printed on IT's terminal and in the console. Not an enumeration either: a kiosk of a
-- later release with a new engine or a new error code must still be able to say it.
ALTER TABLE kiosks ADD COLUMN vector_engine text CHECK (vector_engine ~ '^[a-z0-9][a-z0-9._-]{0,31}$');
ALTER TABLE kiosks ADD COLUMN last_upload_error text CHECK (last_upload_error ~ '^[A-Z][A-Z0-9_]{0,63}$');

-- The heartbeat with the kiosk's health. A new argument list beside the old one, with no defaults, so that a call
-- with the old four (or two) arguments can only mean the old function: two candidates that both accept a call make
-- PostgreSQL refuse it as ambiguous, which would silence every kiosk of the release before.
--
-- Only the caller's own row: clockface_caller_is_kiosk (0070) accepts the kiosk's own login, or IT. And a session that
-- has taken on a kiosk's role (SET ROLE: an IT login acting as a kiosk, or any connection of the embedded central,
-- which is always its superuser) speaks for that kiosk only, not for every kiosk its login could name.
CREATE FUNCTION kiosk_heartbeat(
  for_kiosk bigint, p_app_version text, p_pending integer, p_refused integer,
  p_heartbeat_seconds integer, p_oldest_pending_age_s integer, p_roster_watermark xid8, p_roster_sync_age_s integer,
  p_templates integer, p_vector_engine text, p_last_upload_error text)
RETURNS timestamptz
LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
  acting text := current_setting('role');
BEGIN
  IF NOT clockface_caller_is_kiosk(for_kiosk)
     OR (acting <> 'none' AND EXISTS (SELECT 1 FROM kiosks k WHERE k.role_name = acting)
         AND NOT EXISTS (SELECT 1 FROM kiosks k WHERE k.id = for_kiosk AND k.role_name = acting)) THEN
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
  -- Numbers are bounded rather than refused: a kiosk whose clock was set back (a negative age) or to 1970 and back (an
  -- age of decades) is still alive, and a refused heartbeat would show it offline. Ages: zero to ten years (the bound
  -- of clock offsets, 0080). NULL stays NULL (nothing waits, never synced): greatest() alone would make it 0.
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
  PERFORM end_stalled_kiosk_sessions();
  RETURN clock_timestamp();
END
$$;
REVOKE ALL ON FUNCTION kiosk_heartbeat(bigint, text, integer, integer, integer, integer, xid8, integer, integer, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION kiosk_heartbeat(bigint, text, integer, integer, integer, integer, xid8, integer, integer, text, text)
  TO {{kiosk}}, {{admin}};
