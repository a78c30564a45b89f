-- One schema for SQLite and PostgreSQL: only types and statements both read alike.
-- Times are Unix seconds.

CREATE TABLE clients (
    client_id   TEXT PRIMARY KEY,
    -- `$hmac-sha256$v=1$<salt>$<hash>`: the secret itself is never stored.
    secret_hash TEXT NOT NULL,
    -- grant types, auth methods, scopes, audience, token lifetime, as JSON.
    metadata    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE signing_keys (
    kid                TEXT PRIMARY KEY,
    algorithm          TEXT NOT NULL,
    state              TEXT NOT NULL,
    -- PKCS#8 PEM sealed with AES-256-GCM under `store.encryption_key`: never in the clear.
    sealed_private_key TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);

-- At most one active key: replicas starting together cannot both create one.
CREATE UNIQUE INDEX signing_keys_one_active ON signing_keys (state) WHERE state = 'active';
