-- Roster tooling (IT import, enrolment, erasure).

-- sha256 of the photo a template was computed from: re-importing the same roster finds the template already there
-- and changes nothing. The photo itself is never stored (privacy); a hash cannot be turned back into a face.
ALTER TABLE face_templates ADD COLUMN photo_sha256 text CHECK (photo_sha256 IS NULL OR photo_sha256 ~ '^[0-9a-f]{64}$');
CREATE UNIQUE INDEX face_templates_employee_photo ON face_templates (employee_id, photo_sha256)
  WHERE photo_sha256 IS NOT NULL;

-- Right to erasure: templates, PIN and snapshots are deleted; the row stays (punches are payroll records) and
-- records when the biometric data was erased.
ALTER TABLE employees ADD COLUMN erased_at timestamptz;
