-- clockface:outside-transaction
-- The latest roster change per site, found by one backward index step (issue 19): kiosks behind a transaction pooler
-- cannot LISTEN, so they look at roster_head(sites) every few seconds instead, and a thousand of them must cost
-- central next to nothing. Built CONCURRENTLY: roster_changes grows with every roster write, and a plain CREATE INDEX
-- would hold every import, enrolment and erasure until it finished.
DROP INDEX CONCURRENTLY IF EXISTS roster_changes_site_txid;
CREATE INDEX CONCURRENTLY roster_changes_site_txid ON roster_changes (site, txid);
