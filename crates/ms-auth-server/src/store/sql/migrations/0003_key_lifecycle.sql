-- Signing-key lifecycle: a key is `next` (published, not yet signing) until `activates_at`,
-- then `active`, then `retired` (still published until `publish_until`, when every token it
-- signed has expired), then removed.
ALTER TABLE signing_keys ADD COLUMN activates_at BIGINT;
ALTER TABLE signing_keys ADD COLUMN publish_until BIGINT;
-- At most one next key: of replicas rotating together, one rotation happens.
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (state) WHERE state = 'next';
