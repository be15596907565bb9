-- Entra's lookups search the GIN index far more often than users are written. With fastupdate,
-- new entries wait in a pending list that every search scans linearly until (auto)vacuum
-- merges it: lookups slowed with every write. Entries now go into the index at write time.
alter index resources_search set (fastupdate = off);
select gin_clean_pending_list('resources_search');
