-- A punch of this kiosk that central's corrections voided or moved (a supervisor's fix, central migration 0110):
-- it stays here as it was made (punches are never thrown away), and stops counting as the employee's last punch here.
-- NULL: it counts.
ALTER TABLE punches ADD COLUMN superseded_at TEXT;
