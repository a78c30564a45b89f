-- Every audit entry names who acted (ops::Actor's stored form: system, cli, admin, client:<id>,
-- later user:<id>). Entries written before this migration were the system's or the CLI's; they
-- read as the system.
ALTER TABLE audit_log ADD COLUMN actor TEXT NOT NULL DEFAULT 'system';
