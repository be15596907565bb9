-- The activity log read page by page, newest first (GET /api/v1/tenants/{name}/activity): a
-- page after another starts below the previous page's last (at, id), which this index finds
-- without reading the rows before it. It covers every use of activity_tenant_at, which goes.
create index activity_keyset on activity (tenant_id, at desc, id desc);
drop index activity_tenant_at;
