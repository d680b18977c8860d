-- Kiosk database, first version. Written by the kiosk core only (better-sqlite3, one process).
--
-- What matters most here: punches and their outbox rows are the one thing never thrown away. Everything else
-- (roster, templates, the vector index) is a cache of central and can be rebuilt from it.

-- Small settings: kiosk name, site, the roster watermark, the model the cache was built with.
CREATE TABLE kiosk_meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;

-- The roster of the sites this kiosk serves, as central's change feed last described it.
CREATE TABLE employees (
  id           INTEGER PRIMARY KEY,          -- central employees.id
  employee_no  TEXT NOT NULL UNIQUE,
  full_name    TEXT NOT NULL,
  site         TEXT NOT NULL,
  active       INTEGER NOT NULL CHECK (active IN (0, 1)),
  pin_hash     TEXT
) STRICT;

-- The canonical copy of every template vector (128 float32, little-endian: 512 bytes). Written in the same
-- transaction as the roster and the watermark; the vector index is derived from this table.
CREATE TABLE templates (
  id           INTEGER PRIMARY KEY,          -- central face_templates.id
  employee_id  INTEGER NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
  model_id     TEXT NOT NULL,
  embedding    BLOB NOT NULL CHECK (length(embedding) = 512)
) STRICT;
CREATE INDEX templates_employee ON templates (employee_id);

-- Latest punch per employee at any kiosk, synced from central, so that direction (in/out) is right for someone
-- who clocked in at another door.
CREATE TABLE central_last_punches (
  employee_id  INTEGER PRIMARY KEY,
  direction    TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  punched_at   TEXT NOT NULL                 -- ISO 8601 UTC
) STRICT;

-- Punches made here. Kept after upload (the kiosk's own record); the outbox says what is still to send.
CREATE TABLE punches (
  id              TEXT PRIMARY KEY,          -- uuid made here: central inserts are idempotent on it
  employee_id     INTEGER NOT NULL,          -- no foreign key: an erased or moved employee keeps their punches
  direction       TEXT NOT NULL CHECK (direction IN ('in', 'out')),
  punched_at      TEXT NOT NULL,             -- kiosk clock, ISO 8601 UTC
  method          TEXT NOT NULL CHECK (method IN ('face', 'pin')),
  match_distance  REAL,
  liveness        TEXT NOT NULL DEFAULT 'not_checked' CHECK (liveness IN ('passed', 'failed', 'not_checked'))
) STRICT;
CREATE INDEX punches_employee_time ON punches (employee_id, punched_at);

-- Written in the same transaction as the punch; removed only after central has committed it.
CREATE TABLE outbox (
  punch_id         TEXT PRIMARY KEY REFERENCES punches (id),
  attempts         INTEGER NOT NULL DEFAULT 0,
  next_attempt_at  TEXT NOT NULL,            -- ISO 8601 UTC
  last_error       TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at);
