-- Sessions of the admin console: the cookie's SHA-256, the admin and tenant, the CSRF token
-- of its forms, and when it was last used (an idle session ends).
create table admin_sessions (
    session_hash bytea primary key,
    admin_id uuid not null references admins (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    csrf text not null,
    created timestamptz not null,
    last_seen timestamptz not null
);
