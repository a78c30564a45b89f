-- User accounts. `id` is the ID token's `sub` (stable, opaque); `username` is what is typed at
-- sign-in, unique and compared exactly. The password is kept as its argon2id PHC string only
-- (NULL: no password sign-in). `roles` is a JSON array; `claims` the OIDC Core §5.1 standard
-- claims as JSON, every field of which is defaulted when read, so a claim added later needs no
-- migration.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    password_hash TEXT,
    roles         TEXT NOT NULL DEFAULT '[]',
    status        TEXT NOT NULL,
    origin        TEXT NOT NULL,
    claims        TEXT NOT NULL DEFAULT '{}',
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
