-- Invitations of admins added without a password: the SHA-256 of the link's token, the admin
-- it sets a password for, when it expires and when it was used (once). Issuing a new one
-- deletes the admin's others; removing the admin deletes theirs.
create table admin_invitations (
    token_hash bytea primary key,
    admin_id uuid not null references admins (id) on delete cascade,
    tenant_id uuid not null references tenants (id) on delete cascade,
    created timestamptz not null,
    expires timestamptz not null,
    used timestamptz
);
create index admin_invitations_admin on admin_invitations (admin_id);
