-- Each tenant's provisioning health (issue 25): the state the health check last recorded, since
-- when, and why; and every change of state, kept as an outbox that the notifier reads (e-mail,
-- the operator webhook) and the operator page charts.
create table tenant_health (
    tenant_id uuid primary key references tenants (id) on delete cascade,
    state text not null,
    -- the state's place from best (0, not_connected) to worst, for "worst first"
    rank smallint not null,
    since timestamptz not null,
    -- the reasons, a JSON array of {kind, count, what, fix}
    reasons jsonb not null,
    checked timestamptz not null,
    -- the last request accepted with one of the tenant's credentials, as last read
    last_accepted timestamptz
);
create index tenant_health_worst on tenant_health (rank desc, tenant_id);

create table health_changes (
    seq bigserial primary key,
    id uuid not null unique,
    tenant_id uuid not null references tenants (id) on delete cascade,
    previous text,
    state text not null,
    at timestamptz not null,
    reasons jsonb not null
);
create index health_changes_tenant on health_changes (tenant_id, seq);
