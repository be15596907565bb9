-- Hardening (sign-in throttle, sessions, OAuth families).
--
-- Sign-in attempts, counted in the database so that every replica shares one throttle: one
-- row per key (a hash of an account with a client address, or of an address alone), the start
-- of its 15-minute window and the attempts made in it. An attempt is counted before its
-- password is checked.
create table sign_in_attempts (
    key text primary key,
    window_start timestamptz not null,
    attempts bigint not null
);

-- A console session is valid only while its admin's password is the one it was opened with.
alter table admins add column password_version bigint not null default 0;
alter table admin_sessions add column password_version bigint not null default 0;

-- The admin who authorized an OAuth family: removing the admin, or taking the team-admin
-- right, revokes what they authorized. A refresh family ends at an absolute age, however often
-- it rotates (SCIMD_OAUTH_REFRESH_MAX_AGE).
alter table tokens add column admin_id uuid;
alter table refresh_tokens add column admin_id uuid;
alter table refresh_tokens add column family_started timestamptz;
create index tokens_admin on tokens (admin_id) where admin_id is not null;
create index refresh_tokens_admin on refresh_tokens (admin_id) where admin_id is not null;
