-- Entra's soft-delete rename (issue 26, item 3). What an update that would set a user's
-- `userName` (or the matching attribute `externalId`) to the object id's 32 hex digits followed
-- by the value stored gets (`scimd tenant set T --soft-delete-renames`): `keep` (the stored
-- value stays, the rest of the update applies; the default, for new and existing tenants) or
-- `apply` (as sent). The activity log names the attributes kept on the request's row.

alter table tenants add column soft_delete_renames text not null default 'keep'
    check (soft_delete_renames in ('keep', 'apply'));
alter table activity add column kept text;
