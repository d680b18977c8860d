-- Clockface central schema, first version.
--
-- Shipped migrations are never edited: the migrator stores a checksum of each file and refuses a database whose
-- applied migration no longer matches the file. Change the schema with a new file (0020_…, 0030_…).
--
-- Roles are cluster-wide in PostgreSQL, tables are per database. The two group roles below are shared by every
-- Clockface database on a server; each kiosk gets its own LOGIN role that is a member of clockface_kiosk.

CREATE EXTENSION IF NOT EXISTS vector;

DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clockface_kiosk') THEN
    CREATE ROLE clockface_kiosk NOLOGIN;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'clockface_admin') THEN
    CREATE ROLE clockface_admin NOLOGIN;
  END IF;
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Sites: where people work and kiosks stand. The time zone turns punches into working days in reports.
CREATE TABLE sites (
  code        text PRIMARY KEY CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  name        text NOT NULL CHECK (length(btrim(name)) BETWEEN 1 AND 200),
  time_zone   text NOT NULL DEFAULT 'UTC',
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- A time zone that PostgreSQL does not know would only fail later, inside a report.
CREATE FUNCTION check_site_time_zone() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM now() AT TIME ZONE NEW.time_zone;
  RETURN NEW;
EXCEPTION WHEN invalid_parameter_value THEN
  RAISE EXCEPTION 'unknown time zone "%" for site %', NEW.time_zone, NEW.code USING ERRCODE = 'check_violation';
END
$$;
CREATE TRIGGER sites_time_zone BEFORE INSERT OR UPDATE OF time_zone ON sites
  FOR EACH ROW EXECUTE FUNCTION check_site_time_zone();

-- ---------------------------------------------------------------------------------------------------------------
-- Employees. employee_no is the business key that rosters and payroll use; id is internal.
-- Rows are never deleted once they have punches (payroll keeps them); erasure removes the biometric data instead.
CREATE TABLE employees (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  employee_no  text NOT NULL UNIQUE CHECK (employee_no ~ '^[^[:space:][:cntrl:]]{1,64}$'),
  full_name    text NOT NULL CHECK (length(btrim(full_name)) BETWEEN 1 AND 200),
  department   text CHECK (department IS NULL OR length(department) <= 200),
  site         text NOT NULL REFERENCES sites (code) ON UPDATE CASCADE,
  active       boolean NOT NULL DEFAULT true,
  -- scrypt hash in PHC-like text form; never a clear PIN. Kiosks receive it to check the PIN fallback offline.
  pin_hash     text CHECK (pin_hash IS NULL OR pin_hash LIKE 'scrypt$%'),
  consent_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX employees_site ON employees (site);

CREATE FUNCTION touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Only a real change counts: a no-op update (a re-imported roster) must not look like news to every kiosk.
  IF NEW IS DISTINCT FROM OLD THEN
    NEW.updated_at := now();
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER employees_touch BEFORE UPDATE ON employees FOR EACH ROW EXECUTE FUNCTION touch_updated_at();

-- ---------------------------------------------------------------------------------------------------------------
-- Face models: every template says which network made it. Descriptors of different models are not comparable,
-- so a template can only name a model listed here, and the column type fixes the dimension.
CREATE TABLE face_models (
  model_id     text PRIMARY KEY,
  dimension    integer NOT NULL CHECK (dimension = 128),
  description  text NOT NULL
);
INSERT INTO face_models (model_id, dimension, description) VALUES
  ('faceapi-resnet128@1', 128, 'face-api.js ResNet-34 face recognition net (@vladmandic/face-api weights), L2 distance');

CREATE TABLE face_templates (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  employee_id  bigint NOT NULL REFERENCES employees (id) ON DELETE CASCADE,
  model_id     text NOT NULL REFERENCES face_models (model_id),
  -- pgvector refuses NaN, infinities and any other dimension on input.
  embedding    vector(128) NOT NULL,
  quality      real CHECK (quality IS NULL OR (quality >= 0 AND quality <= 1)),
  source       text NOT NULL CHECK (source IN ('import', 'enrol', 'kiosk')),
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX face_templates_employee ON face_templates (employee_id);
-- 1:N search: ORDER BY embedding <-> $1 LIMIT k uses this index (see test/central/hnsw-plan.test.ts).
CREATE INDEX face_templates_embedding_hnsw ON face_templates
  USING hnsw (embedding vector_l2_ops) WITH (m = 16, ef_construction = 64);

-- A zero vector is what a broken pipeline produces; it would match everyone equally badly.
ALTER TABLE face_templates ADD CONSTRAINT face_templates_embedding_nonzero CHECK (vector_norm(embedding) > 0);

-- ---------------------------------------------------------------------------------------------------------------
-- Kiosks. Each has its own LOGIN role (kiosks.role_name) that is a member of clockface_kiosk; row-level security
-- below keys every kiosk permission on current_user = role_name.
CREATE TABLE kiosks (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name          text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  role_name     name NOT NULL UNIQUE,
  site          text NOT NULL REFERENCES sites (code) ON UPDATE CASCADE,
  created_at    timestamptz NOT NULL DEFAULT now(),
  last_seen_at  timestamptz,
  app_version   text,
  revoked_at    timestamptz
);

-- Further sites a kiosk serves besides its own (a shared entrance, a central fallback search).
CREATE TABLE kiosk_sites (
  kiosk_id  bigint NOT NULL REFERENCES kiosks (id) ON DELETE CASCADE,
  site      text NOT NULL REFERENCES sites (code) ON UPDATE CASCADE,
  PRIMARY KEY (kiosk_id, site)
);

-- ---------------------------------------------------------------------------------------------------------------
-- Punches: written by kiosks, idempotent on the kiosk-made UUID (INSERT … ON CONFLICT (id) DO NOTHING).
CREATE TABLE punches (
  id              uuid PRIMARY KEY,
  employee_id     bigint NOT NULL REFERENCES employees (id) ON DELETE RESTRICT,
  kiosk_id        bigint NOT NULL REFERENCES kiosks (id) ON DELETE RESTRICT,
  direction       text NOT NULL CHECK (direction IN ('in', 'out')),
  punched_at      timestamptz NOT NULL,          -- the kiosk's clock
  received_at     timestamptz NOT NULL DEFAULT now(), -- the server's clock, set by trigger, never by the kiosk
  method          text NOT NULL CHECK (method IN ('face', 'pin')),
  match_distance  real CHECK (match_distance IS NULL OR match_distance >= 0),
  liveness        text NOT NULL DEFAULT 'not_checked' CHECK (liveness IN ('passed', 'failed', 'not_checked')),
  CHECK ((method = 'face') = (match_distance IS NOT NULL))
);
CREATE INDEX punches_employee_time ON punches (employee_id, punched_at);
CREATE INDEX punches_kiosk_time ON punches (kiosk_id, punched_at);

CREATE FUNCTION punches_server_clock() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.received_at := now();
  RETURN NEW;
END
$$;
CREATE TRIGGER punches_received_at BEFORE INSERT ON punches FOR EACH ROW EXECUTE FUNCTION punches_server_clock();

-- Audit snapshots live apart from punches so that a kiosk can write one and never read any (grants below).
CREATE TABLE punch_snapshots (
  punch_id    uuid PRIMARY KEY REFERENCES punches (id) ON DELETE CASCADE,
  jpeg        bytea NOT NULL CHECK (octet_length(jpeg) BETWEEN 4 AND 262144),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- ---------------------------------------------------------------------------------------------------------------
-- Roster change feed.
--
-- Every change to employees and templates appends a row here, written by triggers in the same transaction.
-- Rows carry keys only, never names or embeddings: the kiosk fetches the current state, so an erasure cannot leave
-- biometric data behind in the feed.
--
-- Ordering hazard: seq comes from a sequence, and sequence numbers are handed out before commit. A reader that
-- remembers "the highest seq I saw" skips a row whose transaction took a lower number but committed later.
-- So the watermark is a transaction id instead: each row records the id of the transaction that wrote it
-- (pg_current_xact_id(), a 64-bit xid8 that never wraps), and a reader only takes rows from transactions that
-- are older than the xmin of its snapshot, i.e. transactions that have certainly finished. Reads are then
-- [previous watermark, xmin of this read) with the new watermark = that xmin: every committed change is
-- delivered exactly once, in transaction order. See roster_changes_since() below.
CREATE TABLE roster_changes (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  txid         xid8 NOT NULL DEFAULT pg_current_xact_id(),
  entity       text NOT NULL CHECK (entity IN ('employee', 'template')),
  op           text NOT NULL CHECK (op IN ('upsert', 'delete')),
  employee_id  bigint NOT NULL,
  template_id  bigint,
  site         text NOT NULL,
  changed_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((entity = 'template') = (template_id IS NOT NULL))
);
CREATE INDEX roster_changes_txid ON roster_changes (txid, seq);

-- When old changes are pruned, kiosks whose watermark is below pruned_below must take a fresh snapshot.
CREATE TABLE roster_feed_state (
  singleton     boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  pruned_below  xid8 NOT NULL DEFAULT '0'
);
INSERT INTO roster_feed_state DEFAULT VALUES;

CREATE FUNCTION roster_feed_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- One notification per statement; delivered at commit, merged by PostgreSQL when repeated. Kiosks that miss it
  -- (a pooler, the embedded central) still poll.
  PERFORM pg_notify('clockface_roster', '');
  RETURN NULL;
END
$$;

CREATE FUNCTION employees_feed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'delete', OLD.id, OLD.site);
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' THEN
    IF NEW IS NOT DISTINCT FROM OLD THEN
      RETURN NEW;
    END IF;
    -- Moved to another site: the old site's kiosks must drop the person.
    IF NEW.site IS DISTINCT FROM OLD.site THEN
      INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'delete', OLD.id, OLD.site);
    END IF;
  END IF;
  INSERT INTO roster_changes (entity, op, employee_id, site) VALUES ('employee', 'upsert', NEW.id, NEW.site);
  RETURN NEW;
END
$$;
CREATE TRIGGER employees_feed AFTER INSERT OR UPDATE OR DELETE ON employees
  FOR EACH ROW EXECUTE FUNCTION employees_feed();
CREATE TRIGGER employees_feed_notify AFTER INSERT OR UPDATE OR DELETE ON employees
  FOR EACH STATEMENT EXECUTE FUNCTION roster_feed_notify();

CREATE FUNCTION face_templates_feed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  emp_site text;
BEGIN
  IF TG_OP = 'DELETE' THEN
    SELECT site INTO emp_site FROM employees WHERE id = OLD.employee_id;
    -- No employee row: the employee itself is being deleted, and its own tombstone covers the templates.
    IF FOUND THEN
      INSERT INTO roster_changes (entity, op, employee_id, template_id, site)
        VALUES ('template', 'delete', OLD.employee_id, OLD.id, emp_site);
    END IF;
    RETURN OLD;
  END IF;
  SELECT site INTO emp_site FROM employees WHERE id = NEW.employee_id;
  INSERT INTO roster_changes (entity, op, employee_id, template_id, site)
    VALUES ('template', 'upsert', NEW.employee_id, NEW.id, emp_site);
  RETURN NEW;
END
$$;
CREATE TRIGGER face_templates_feed AFTER INSERT OR UPDATE OR DELETE ON face_templates
  FOR EACH ROW EXECUTE FUNCTION face_templates_feed();
CREATE TRIGGER face_templates_feed_notify AFTER INSERT OR UPDATE OR DELETE ON face_templates
  FOR EACH STATEMENT EXECUTE FUNCTION roster_feed_notify();

-- The reader's half of the feed. Returns the changes of every transaction with since <= txid < xmin, where xmin is
-- the oldest transaction still running when the calling statement's snapshot was taken, plus that xmin as the
-- next watermark (on every row, and on one row of nulls when there are no changes). Changes come in transaction
-- order, then in the order each transaction made them.
--
-- Hazard: one long-running writing transaction anywhere on the server holds xmin back, and with it the feed. That
-- delays changes; it never loses them.
CREATE FUNCTION roster_changes_since(since xid8, max_rows integer DEFAULT 10000)
RETURNS TABLE (seq bigint, txid xid8, entity text, op text, employee_id bigint, template_id bigint, site text,
               next_watermark xid8, snapshot_needed boolean)
LANGUAGE plpgsql STABLE AS $$
DECLARE
  hi xid8 := pg_snapshot_xmin(pg_current_snapshot());
  horizon xid8 := (SELECT s.pruned_below FROM roster_feed_state s);
  last_tx xid8;
  n integer := 0;
BEGIN
  IF since < horizon THEN
    RETURN QUERY SELECT NULL::bigint, NULL::xid8, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text,
                        hi, true;
    RETURN;
  END IF;
  -- max_rows is a soft page size: a page always ends at a transaction boundary, so that the watermark handed back
  -- (the next transaction's id) never splits one transaction's changes across two reads.
  FOR seq, txid, entity, op, employee_id, template_id, site IN
    SELECT c.seq, c.txid, c.entity, c.op, c.employee_id, c.template_id, c.site
    FROM roster_changes c
    WHERE c.txid >= since AND c.txid < hi
    ORDER BY c.txid, c.seq
  LOOP
    IF n >= max_rows AND txid <> last_tx THEN
      hi := txid;
      EXIT;
    END IF;
    last_tx := txid;
    n := n + 1;
    next_watermark := NULL;
    snapshot_needed := false;
    RETURN NEXT;
  END LOOP;
  RETURN QUERY SELECT NULL::bigint, NULL::xid8, NULL::text, NULL::text, NULL::bigint, NULL::bigint, NULL::text,
                      hi, false;
END
$$;

-- Drop feed rows older than keep_for. Kiosks whose watermark falls below the new horizon take a snapshot.
CREATE FUNCTION prune_roster_changes(keep_for interval) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
  cut xid8;
  removed bigint;
BEGIN
  SELECT min(c.txid) INTO cut FROM roster_changes c WHERE c.changed_at >= now() - keep_for;
  IF cut IS NULL THEN
    cut := pg_snapshot_xmin(pg_current_snapshot());
  END IF;
  DELETE FROM roster_changes WHERE txid < cut;
  GET DIAGNOSTICS removed = ROW_COUNT;
  UPDATE roster_feed_state SET pruned_below = greatest(pruned_below, cut);
  RETURN removed;
END
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Kiosk identity, for row-level security. SECURITY INVOKER on purpose: the lookups below go through the kiosks
-- table's own policy, which shows a kiosk only its own row, so they cannot reveal another kiosk.
CREATE FUNCTION clockface_current_kiosk_id() RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT k.id FROM kiosks k WHERE k.role_name = current_user AND k.revoked_at IS NULL
$$;

CREATE FUNCTION clockface_kiosk_sites() RETURNS SETOF text LANGUAGE sql STABLE AS $$
  SELECT k.site FROM kiosks k WHERE k.role_name = current_user AND k.revoked_at IS NULL
  UNION
  SELECT ks.site FROM kiosk_sites ks JOIN kiosks k ON k.id = ks.kiosk_id
  WHERE k.role_name = current_user AND k.revoked_at IS NULL
$$;

-- ---------------------------------------------------------------------------------------------------------------
-- Grants and row-level security.
--
-- Owners and superusers bypass RLS: the IT tooling connects as the database owner or as a member of
-- clockface_admin. Kiosks connect as their own role and see only what the policies below allow.
REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO clockface_kiosk, clockface_admin;

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO clockface_admin;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO clockface_admin;

GRANT SELECT ON sites, employees, face_models, face_templates, kiosks, kiosk_sites, roster_changes,
  roster_feed_state TO clockface_kiosk;
GRANT SELECT, INSERT ON punches TO clockface_kiosk;
-- A kiosk records that it is alive and which version it runs; it can change nothing else about itself.
GRANT UPDATE (last_seen_at, app_version) ON kiosks TO clockface_kiosk;
GRANT INSERT ON punch_snapshots TO clockface_kiosk;

ALTER TABLE sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE employees ENABLE ROW LEVEL SECURITY;
ALTER TABLE face_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE kiosks ENABLE ROW LEVEL SECURITY;
ALTER TABLE kiosk_sites ENABLE ROW LEVEL SECURITY;
ALTER TABLE roster_changes ENABLE ROW LEVEL SECURITY;
ALTER TABLE punches ENABLE ROW LEVEL SECURITY;
ALTER TABLE punch_snapshots ENABLE ROW LEVEL SECURITY;

CREATE POLICY admin_all ON sites TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON employees TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON face_templates TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON kiosks TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON kiosk_sites TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON roster_changes TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON punches TO clockface_admin USING (true) WITH CHECK (true);
CREATE POLICY admin_all ON punch_snapshots TO clockface_admin USING (true) WITH CHECK (true);

CREATE POLICY kiosk_own_row ON kiosks FOR SELECT TO clockface_kiosk
  USING (role_name = current_user AND revoked_at IS NULL);
CREATE POLICY kiosk_own_heartbeat ON kiosks FOR UPDATE TO clockface_kiosk
  USING (role_name = current_user AND revoked_at IS NULL) WITH CHECK (role_name = current_user AND revoked_at IS NULL);
CREATE POLICY kiosk_own_sites ON kiosk_sites FOR SELECT TO clockface_kiosk
  USING (kiosk_id = clockface_current_kiosk_id());
CREATE POLICY kiosk_served_sites ON sites FOR SELECT TO clockface_kiosk
  USING (code IN (SELECT clockface_kiosk_sites()));
CREATE POLICY kiosk_served_employees ON employees FOR SELECT TO clockface_kiosk
  USING (site IN (SELECT clockface_kiosk_sites()));
-- Goes through employees' policy: a template is visible exactly when its employee is.
CREATE POLICY kiosk_served_templates ON face_templates FOR SELECT TO clockface_kiosk
  USING (EXISTS (SELECT 1 FROM employees e WHERE e.id = face_templates.employee_id));
CREATE POLICY kiosk_served_changes ON roster_changes FOR SELECT TO clockface_kiosk
  USING (site IN (SELECT clockface_kiosk_sites()));
CREATE POLICY kiosk_own_punches_read ON punches FOR SELECT TO clockface_kiosk
  USING (kiosk_id = clockface_current_kiosk_id());
CREATE POLICY kiosk_own_punches_write ON punches FOR INSERT TO clockface_kiosk
  WITH CHECK (kiosk_id = clockface_current_kiosk_id());
CREATE POLICY kiosk_own_snapshots_write ON punch_snapshots FOR INSERT TO clockface_kiosk
  WITH CHECK (EXISTS (SELECT 1 FROM punches p WHERE p.id = punch_snapshots.punch_id
                      AND p.kiosk_id = clockface_current_kiosk_id()));
