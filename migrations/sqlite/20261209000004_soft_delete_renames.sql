-- The soft-delete rename rule and the activity log's kept attributes of
-- migrations/postgres/20261209000004_soft_delete_renames.sql.

alter table tenants add column soft_delete_renames text not null default 'keep'
    check (soft_delete_renames in ('keep', 'apply'));
alter table activity add column kept text;
