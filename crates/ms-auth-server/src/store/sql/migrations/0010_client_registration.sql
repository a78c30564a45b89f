-- Dynamic client registration (RFC 7591, RFC 7592): the registration access token's SHA-256,
-- in a column of its own so that an update swaps it atomically (the old token dies as the new
-- one is stored). NULL for every client the config or an administrator registered; rows
-- written before it read so.
ALTER TABLE clients ADD COLUMN registration_token_hash TEXT;
