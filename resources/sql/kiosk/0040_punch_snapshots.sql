-- Audit snapshots (only when the kiosk is configured to take them): a small JPEG of the person at the moment of a
-- punch, kept here only until central has it.
CREATE TABLE punch_snapshots (
  punch_id  TEXT PRIMARY KEY REFERENCES punches (id),
  jpeg      BLOB NOT NULL CHECK (length(jpeg) BETWEEN 4 AND 65536)
) STRICT;
