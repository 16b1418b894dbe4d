drop table sessions;
drop function session_period(timestamptz, integer);
drop table enrollments;
drop table programs;
alter table profiles drop constraint profiles_id_role_key;
-- btree_gist stays: it may have been installed before this migration and be
-- used by others; it holds no data.
