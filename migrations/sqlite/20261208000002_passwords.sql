-- The password rule of migrations/postgres/20261208000002_passwords.sql.

alter table tenants add column passwords text not null default 'reject'
    check (passwords in ('reject', 'ignore'));
update tenants set passwords = 'ignore';
