-- What a user's `password` in a SCIM request gets (`scimd tenant set T --passwords`): `reject`
-- (400, the default of a new tenant) or `ignore` (accepted and dropped). scimd never keeps a
-- password. Tenants that exist before this migration accepted and dropped passwords, so they
-- keep doing so: an upgrade does not start refusing what an identity provider already sends.

alter table tenants add column passwords text not null default 'reject'
    check (passwords in ('reject', 'ignore'));
update tenants set passwords = 'ignore';
