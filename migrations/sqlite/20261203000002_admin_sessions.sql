-- Sessions of the admin console: the table of migrations/postgres/20261203000002_admin_sessions.sql.
create table admin_sessions (
    session_hash blob primary key,
    admin_id text not null references admins (id) on delete cascade,
    tenant_id text not null references tenants (id) on delete cascade,
    csrf text not null,
    created integer not null,
    last_seen integer not null
);
