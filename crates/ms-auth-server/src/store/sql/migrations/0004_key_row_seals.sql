-- F13: a signing key's seal binds its whole row (kid, algorithm, state and times), not the
-- kid alone. SQL cannot re-seal: every row here is marked as sealed the old way (1), and the
-- store re-seals such rows to version 2 when it opens (`SqlStore::open`, Rust), each row once
-- even when replicas start together. A row whose columns were edited no longer opens.
ALTER TABLE signing_keys ADD COLUMN seal_version BIGINT NOT NULL DEFAULT 1;
