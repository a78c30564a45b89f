-- The back-channel logout outbox (OpenID Connect Back-Channel Logout 1.0 §2.5): one row per
-- ended session and client it signed in to, inserted in the transaction that ends the
-- session. `due_at` is when a replica may next claim it: a claim moves it to the lease's end,
-- a failed attempt to the backed-off retry.
CREATE TABLE logout_notices (
    sid        TEXT NOT NULL,
    client_id  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    due_at     BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (sid, client_id)
);
CREATE INDEX logout_notices_due ON logout_notices (due_at);
