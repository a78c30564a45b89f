-- customer-service's schema, for SQLite and PostgreSQL alike.
CREATE TABLE customers (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    email      TEXT NOT NULL,
    country    TEXT NOT NULL,
    -- Creation order for listing: microseconds since the epoch, ties broken by id.
    created_us BIGINT NOT NULL
);

CREATE INDEX customers_order ON customers (created_us, id);
