-- Hardening: the tables and columns of migrations/postgres/20261206000010_hardening.sql (the
-- sign-in throttle's attempts, password versions of admins and sessions, the admin and the
-- start of each OAuth family).
create table sign_in_attempts (
    key text primary key,
    window_start integer not null,
    attempts integer not null
);

alter table admins add column password_version integer not null default 0;
alter table admin_sessions add column password_version integer not null default 0;

alter table tokens add column admin_id text;
alter table refresh_tokens add column admin_id text;
alter table refresh_tokens add column family_started integer;
create index tokens_admin on tokens (admin_id) where admin_id is not null;
create index refresh_tokens_admin on refresh_tokens (admin_id) where admin_id is not null;
