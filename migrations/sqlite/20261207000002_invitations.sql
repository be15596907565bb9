-- Invitations of admins: the table of migrations/postgres/20261207000002_invitations.sql.
create table admin_invitations (
    token_hash blob primary key,
    admin_id text not null references admins (id) on delete cascade,
    tenant_id text not null references tenants (id) on delete cascade,
    created integer not null,
    expires integer not null,
    used integer
);
create index admin_invitations_admin on admin_invitations (admin_id);
