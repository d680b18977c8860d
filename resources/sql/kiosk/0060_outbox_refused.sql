-- When central last refused this punch itself (not the connection): the employee is no longer one this kiosk may
-- punch (deactivated, erased, moved to another site), or a value central will not store. Such a punch stays here,
-- retried now and then in case IT repairs the roster, and is counted in the kiosk's status and in the heartbeat, so
-- that IT sees it in `clockface kiosk list`. NULL: not refused (never tried, or only the connection failed).
ALTER TABLE outbox ADD COLUMN refused_at TEXT;
