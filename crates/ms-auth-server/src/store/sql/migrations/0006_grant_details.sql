-- Grant records carry what the code flow and logout need. Lookup and state fields are
-- columns; the rest is JSON in `details`, every field of which is defaulted when read, so a
-- later field needs no migration and never makes a stored row unreadable.
ALTER TABLE authorization_codes ADD COLUMN user_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN session_id TEXT;
ALTER TABLE authorization_codes ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
CREATE INDEX authorization_codes_expiry ON authorization_codes (expires_at);

ALTER TABLE refresh_tokens ADD COLUMN user_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN session_id TEXT;
ALTER TABLE refresh_tokens ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
-- The family's absolute end: none of its tokens outlives it, however often they rotate.
-- Rows written before it: the latest expiry their family had.
ALTER TABLE refresh_tokens ADD COLUMN family_expires_at BIGINT NOT NULL DEFAULT 0;
UPDATE refresh_tokens SET family_expires_at = (
    SELECT MAX(f.expires_at) FROM refresh_tokens f WHERE f.family_id = refresh_tokens.family_id
);
-- A rotation leaves on the spent token its successor (hash, and its value as sealed by the
-- server: never readable here) and a grace window, so that a client that lost the response can
-- present the old token once more (`retried_at`) and be given the same successor. The sealed
-- value is dropped by pruning once the window has passed.
ALTER TABLE refresh_tokens ADD COLUMN successor_hash TEXT;
ALTER TABLE refresh_tokens ADD COLUMN successor_sealed TEXT;
ALTER TABLE refresh_tokens ADD COLUMN grace_until BIGINT;
ALTER TABLE refresh_tokens ADD COLUMN retried_at BIGINT;
-- Logout ends a session's families.
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

-- The access tokens issued from a family (by a code's exchange, by each refresh), until their
-- `exp`: a replayed code, a reused refresh token or a revoked family names them for the
-- denylist (RFC 6749 §4.1.2, RFC 7009 §2.1).
CREATE TABLE family_access_tokens (
    family_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (family_id, jti)
);
CREATE INDEX family_access_tokens_expiry ON family_access_tokens (expires_at);
