drop table idempotency_keys;
drop table profiles;
