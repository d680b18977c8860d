-- Roster sync bookkeeping.

-- Templates whose vectors the derived vector index has not taken in yet. Written in the same transaction as the
-- roster change (so it cannot be lost), cleared after the index has applied it: a kiosk killed between the two
-- finishes the job when it next opens the database. Applying an entry twice is harmless.
CREATE TABLE index_pending (
  template_id  INTEGER PRIMARY KEY,
  op           TEXT NOT NULL CHECK (op IN ('upsert', 'delete'))
) STRICT;

-- Keys used in kiosk_meta (documented here because they are a contract between versions):
--   kiosk_id            central kiosks.id
--   roster_watermark    xid8 of central's change feed, decimal text; absent until the first snapshot
--   roster_model_id     the face model the cached templates come from; another model means a new snapshot
--   served_sites        JSON array of the site codes the roster was synced for; another set means a new snapshot
--   index_rebuild       '1' while the vector index must be rebuilt from the templates table
--   last_sync_at        ISO time of the last successful roster sync
--   last_punch_cursor   ISO time: central punches received after it are still to be fetched
