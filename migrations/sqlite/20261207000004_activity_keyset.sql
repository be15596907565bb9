-- The activity log read page by page: the index of
-- migrations/postgres/20261207000004_activity_keyset.sql.
create index activity_keyset on activity (tenant_id, at desc, id desc);
drop index activity_tenant_at;
