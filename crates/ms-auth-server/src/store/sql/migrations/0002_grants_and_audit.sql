-- Grant state: authorization codes (used once), refresh-token families (rotated, revoked
-- together) and an append-only audit log. Codes and refresh tokens are stored by the
-- SHA-256 of their value only: a database read gives no usable credential.

CREATE TABLE authorization_codes (
    code_hash      TEXT PRIMARY KEY,
    family_id      TEXT NOT NULL,
    client_id      TEXT NOT NULL,
    subject        TEXT NOT NULL,
    scope          TEXT NOT NULL,
    redirect_uri   TEXT NOT NULL,
    code_challenge TEXT,
    nonce          TEXT,
    auth_time      BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    consumed_at    BIGINT
);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    family_id   TEXT NOT NULL,
    client_id   TEXT NOT NULL,
    subject     TEXT NOT NULL,
    scope       TEXT NOT NULL,
    issued_at   BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    rotated_at  BIGINT,
    revoked_at  BIGINT
);

CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE audit_log (
    id        TEXT PRIMARY KEY,
    at        BIGINT NOT NULL,
    event     TEXT NOT NULL,
    client_id TEXT,
    subject   TEXT,
    detail    TEXT NOT NULL
);

CREATE INDEX audit_log_at ON audit_log (at);
