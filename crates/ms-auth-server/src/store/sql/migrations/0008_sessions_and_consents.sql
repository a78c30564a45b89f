-- Browser sessions and consents (OIDC Core §3.1.2.3–§3.1.2.4). A session is looked up by the
-- SHA-256 of its cookie token only (a database read gives no usable cookie) and named
-- everywhere else by its public `sid`. `amr` and `clients` are JSON arrays of strings.
CREATE TABLE browser_sessions (
    token_hash      TEXT PRIMARY KEY,
    sid             TEXT NOT NULL UNIQUE,
    user_id         TEXT NOT NULL,
    auth_time       BIGINT NOT NULL,
    amr             TEXT NOT NULL DEFAULT '[]',
    acr             TEXT,
    created_at      BIGINT NOT NULL,
    last_seen       BIGINT NOT NULL,
    idle_expires_at BIGINT NOT NULL,
    expires_at      BIGINT NOT NULL,
    clients         TEXT NOT NULL DEFAULT '[]',
    user_agent      TEXT,
    address         TEXT,
    -- Set by logout (or by the user or an administrator): never live again.
    ended_at        BIGINT
);
CREATE INDEX browser_sessions_user ON browser_sessions (user_id);

-- What each user allowed each client: the scopes, space-separated, in the order first granted.
CREATE TABLE consents (
    user_id    TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    scope      TEXT NOT NULL,
    granted_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id)
);

-- Revoking a consent revokes the user's families for that client; logout, the session's
-- (refresh_tokens_session exists since 0006). Families that issued no refresh token are found
-- by the code that started them.
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id, client_id);
CREATE INDEX authorization_codes_user ON authorization_codes (user_id, client_id);
CREATE INDEX authorization_codes_session ON authorization_codes (session_id);
