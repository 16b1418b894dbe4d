drop table outbox;
drop table outbox_counters;
