-- The web console (issue 18).
--
-- console_accounts: the embedded central accepts every login as its superuser, so there the console cannot let central
-- decide who someone is. It keeps one admin account of its own, chosen on first run: a name and an scrypt hash
-- (`scrypt$N$r$p$salt$hash`, base64url), never the password. On a PostgreSQL server the table stays empty and
-- unused: people sign in with their own logins and row-level security decides. Nobody but the owner may read it.
CREATE TABLE console_accounts (
  login          text PRIMARY KEY CHECK (login ~ '^[a-z][a-z0-9._-]{1,62}$'),
  password_hash  text NOT NULL CHECK (password_hash LIKE 'scrypt$%'),
  created_at     timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON console_accounts FROM PUBLIC;

-- The Now page's push: a statement that adds punches, or corrections, or decides one, raises clockface_punch. The
-- payload is empty on purpose: every listener may hear every channel, so the notification says only "look again",
-- and each console session then reads, on its own login, what row-level security lets it see.
CREATE FUNCTION clockface_punch_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('clockface_punch', '');
  RETURN NULL;
END
$$;
CREATE TRIGGER punches_notify AFTER INSERT ON punches FOR EACH STATEMENT EXECUTE FUNCTION clockface_punch_notify();
CREATE TRIGGER punch_corrections_notify AFTER INSERT ON punch_corrections FOR EACH STATEMENT EXECUTE FUNCTION clockface_punch_notify();
CREATE TRIGGER correction_decisions_notify AFTER INSERT ON correction_decisions FOR EACH STATEMENT EXECUTE FUNCTION clockface_punch_notify();

-- The Now page reads the latest punches central received: without this, every look scanned the whole punches table.
-- (Built inside the migration's transaction, so it holds inserts back while it runs: seconds at a few million
-- punches. Online rebuilds for large centrals are issue 19's migration-runner work.)
CREATE INDEX punches_by_received ON punches (received_at);
