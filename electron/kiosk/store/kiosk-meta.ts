import type { KioskDatabase } from './kiosk-db.js';

/** Keys of kiosk_meta; resources/sql/kiosk/0020_sync_state.sql documents each. */
export type MetaKey =
  | 'kiosk_id'
  | 'roster_watermark'
  | 'roster_model_id'
  | 'served_sites'
  | 'index_rebuild'
  | 'last_sync_at'
  | 'last_punch_cursor'
  /** The kiosk's site as people call it and its IANA time zone, from central at each sync. */
  | 'site_name'
  | 'site_time_zone';

export function getMeta(db: KioskDatabase, key: MetaKey): string | null {
  const row = db.prepare('SELECT value FROM kiosk_meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value ?? null;
}

export function setMeta(db: KioskDatabase, key: MetaKey, value: string | null): void {
  if (value === null) db.prepare('DELETE FROM kiosk_meta WHERE key = ?').run(key);
  else db.prepare('INSERT INTO kiosk_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
}
