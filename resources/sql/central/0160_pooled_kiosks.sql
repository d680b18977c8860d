-- Kiosks behind a pooler in transaction mode (issue 19; docs/operations.md, "A thousand kiosks: PgBouncer").
--
-- A pooler in transaction mode hands each transaction to whichever server session is free, so a kiosk there can rely
-- on no session state: LISTEN hears nothing, and the settings a direct kiosk sends in its startup packet cannot be
-- sent at all (PgBouncer refuses the `options` parameter). Two things replace them.

-- 1. The roster head: the id of the latest transaction that changed the roster of any of these sites and that the
-- change feed already hands out (older than this snapshot's xmin, as in roster_changes_since). A kiosk whose watermark
-- is at or below it has something to read. SECURITY INVOKER: the feed's own policies decide which sites' changes the
-- caller sees (a kiosk: the sites it serves), so asking about other sites reveals nothing. One backward step on
-- roster_changes_site_txid (0150) per site. '0' when there is nothing.
CREATE FUNCTION roster_head(p_sites text[]) RETURNS xid8
LANGUAGE sql STABLE SET search_path = pg_catalog, public, pg_temp AS $$
  SELECT coalesce(
    (SELECT h.txid
     FROM unnest(p_sites) AS s(site)
     CROSS JOIN LATERAL (
       SELECT c.txid FROM roster_changes c
       WHERE c.site = s.site AND c.txid < pg_snapshot_xmin(pg_current_snapshot())
       ORDER BY c.txid DESC LIMIT 1
     ) h
     ORDER BY h.txid DESC LIMIT 1),
    '0'::xid8)
$$;
REVOKE ALL ON FUNCTION roster_head(text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION roster_head(text[]) TO {{kiosk}}, {{admin}};

-- 2. A clean session for each transaction. In transaction mode a server session outlives the client that used it,
-- and passes to the next client of the same login. Someone holding a kiosk's password could leave behind, on a session
-- the real kiosk will get next, session settings (read-only, a search_path with pg_temp first, no timeouts) and
-- advisory locks; a login with TEMP (IT; everyone else lost it in 0050) also a temporary table that shadows a
-- real one, where its next client's writes would land and be reported stored. And every login may change its own role
-- defaults (ALTER ROLE … SET). So the pooler runs this function when it
-- opens a server session (connect_query) and after every transaction (server_reset_query with
-- server_reset_query_always = 1; resources/pgbouncer/pgbouncer.ini): temporary objects dropped, settings back to their
-- defaults and then to what Clockface relies on (electron/central/connect.ts, SESSION_SETTINGS, which a direct
-- connection sends at login), locks released. Kiosk logins also get the limits a direct kiosk sets for itself.
-- No SET clause on the function (one would restore search_path on return): everything is schema-qualified instead,
-- and the pooler calls it as public.clockface_pooled_session(), which no search_path can redirect.
CREATE FUNCTION clockface_pooled_session() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  EXECUTE 'DISCARD TEMP';
  EXECUTE 'RESET ALL';
  PERFORM pg_catalog.pg_advisory_unlock_all();
  PERFORM pg_catalog.set_config('search_path', 'public', false);
  PERFORM pg_catalog.set_config('default_transaction_read_only', 'off', false);
  PERFORM pg_catalog.set_config('default_transaction_isolation', 'read committed', false);
  PERFORM pg_catalog.set_config('synchronous_commit', 'on', false);
  PERFORM pg_catalog.set_config('row_security', 'on', false);
  PERFORM pg_catalog.set_config('DateStyle', 'ISO, MDY', false);
  PERFORM pg_catalog.set_config('IntervalStyle', 'postgres', false);
  PERFORM pg_catalog.set_config('extra_float_digits', '1', false);
  PERFORM pg_catalog.set_config('bytea_output', 'hex', false);
  IF pg_catalog.pg_has_role(session_user, {{kiosk:literal}}, 'MEMBER') THEN
    PERFORM pg_catalog.set_config('statement_timeout', '60000', false);
    PERFORM pg_catalog.set_config('lock_timeout', '30000', false);
    PERFORM pg_catalog.set_config('idle_in_transaction_session_timeout', '120000', false);
  END IF;
END
$$;
