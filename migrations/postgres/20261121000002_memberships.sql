-- Group membership in its own table, never an array in the group document (DESIGN.md "Data
-- model"): adding k members to a group of any size is k inserts. Members are users or groups of
-- the same tenant; deleting either side deletes the membership in the same statement.

create table memberships (
    tenant_id uuid not null,
    group_id uuid not null,
    member_id uuid not null,
    -- the order members were added in, for stable output
    seq bigint generated always as identity,
    -- members[].display as the client sent it; derived from the member when null
    display text,
    primary key (tenant_id, group_id, member_id),
    foreign key (tenant_id, group_id) references resources (tenant_id, id) on delete cascade,
    foreign key (tenant_id, member_id) references resources (tenant_id, id) on delete cascade,
    check (group_id <> member_id)
);

-- User.groups and members filters by member
create index memberships_member on memberships (tenant_id, member_id);
-- members of a group in the order they were added
create index memberships_group_order on memberships (tenant_id, group_id, seq);
