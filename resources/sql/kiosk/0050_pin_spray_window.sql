-- The kiosk-wide count of wrong employee PINs (subject '*employee-pins*') runs in a time window rather than until the
-- next success: one PIN tried against every employee number must hit a limit too, and a colleague's correct PIN
-- must not reset it. window_started_at: ISO 8601 UTC start of the current window, NULL for per-subject rows.
ALTER TABLE pin_attempts ADD COLUMN window_started_at TEXT;
