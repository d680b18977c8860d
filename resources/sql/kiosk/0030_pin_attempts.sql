-- Failed PIN attempts, kept across restarts so that switching the kiosk off and on does not reset a lockout.
-- subject: an employee number, or '*admin*' for the kiosk's admin PIN.
CREATE TABLE pin_attempts (
  subject       TEXT PRIMARY KEY,
  failures      INTEGER NOT NULL,
  locked_until  TEXT                        -- ISO 8601 UTC, or NULL
) STRICT;
