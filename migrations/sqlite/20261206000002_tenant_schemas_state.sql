-- Where a registration stands: the column of migrations/postgres/20261206000002_tenant_schemas_state.sql.
-- SQLite builds a schema's indexes in the registration's transaction, so it writes 'ready' rows
-- only; a 'building' row is one another process cannot have left, handled alike all the same.

alter table tenant_schemas add column state text not null default 'ready'
    check (state in ('building', 'ready'));
