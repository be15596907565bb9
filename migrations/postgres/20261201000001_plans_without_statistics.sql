-- Plans that are right without statistics. scimd's statements are prepared once per connection
-- and planned generically, often on a table that was empty then and that no ANALYZE will ever
-- describe (autovacuum may be off). Without statistics the planner takes `tenant_id = $1` and
-- `resource_type = $2` for rare values, so any index that starts with them looked as good as
-- the one a lookup needs, and a plan made on the empty table walked every user of the tenant
-- on each lookup. Here each index starts with the column that decides between rows, so that
-- a lookup's statement matches exactly one index whatever the statistics: the name, the
-- externalId, the matching key, the id; the listing order has its own key, `scope`, which only
-- listings name.

alter table resources
    add column scope text generated always as (tenant_id::text || ':' || resource_type) stored;

drop index resources_listing;
create index resources_listing on resources (scope, seq);

drop index resources_name_key;
create unique index resources_name_key on resources (name_key, tenant_id, resource_type);

drop index resources_external_id;
create index resources_external_id on resources (external_id, tenant_id, resource_type);

drop index resources_match_key;
create unique index resources_match_key on resources (match_key, tenant_id)
    where resource_type = 'User' and match_key is not null;

-- the id first; memberships still reference (tenant_id, id), which the new key covers
alter table memberships
    drop constraint memberships_tenant_id_group_id_fkey,
    drop constraint memberships_tenant_id_member_id_fkey;
alter table resources drop constraint resources_pkey, add primary key (id, tenant_id);
alter table memberships
    add constraint memberships_tenant_id_group_id_fkey foreign key (tenant_id, group_id)
        references resources (tenant_id, id) on delete cascade,
    add constraint memberships_tenant_id_member_id_fkey foreign key (tenant_id, member_id)
        references resources (tenant_id, id) on delete cascade;

-- a group's members by the group, a member's groups by the member; members are read in the
-- order they were added by sorting the group's rows, not by a third index
alter table memberships drop constraint memberships_pkey, add primary key (group_id, member_id, tenant_id);
drop index memberships_member;
create index memberships_member on memberships (member_id, tenant_id);
drop index memberships_group_order;
