-- Each kiosk's clock offset from central's, as the kiosk measured it at its last heartbeat (ms, positive = kiosk
-- ahead; sendHeartbeat in electron/kiosk/central-last-punches.ts, mid-round-trip). IT sees every kiosk's drift in
-- `clockface kiosk list` without walking to it. Informational only: every punch keeps the kiosk's clock (punched_at)
-- and central's (received_at) whatever this says.
ALTER TABLE kiosks ADD COLUMN clock_offset_ms bigint;

-- The kiosk_own_heartbeat policy already limits a kiosk's UPDATE to its own row; this adds the column to the two it
-- may change there.
GRANT UPDATE (clock_offset_ms) ON kiosks TO clockface_kiosk;
