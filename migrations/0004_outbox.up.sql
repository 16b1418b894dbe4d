-- Transactional outbox: every write appends its domain events here in the
-- same transaction as the change (src/events/, README "Events").
--
-- Commit order. A plain sequence or bigserial is not commit-ordered: a
-- transaction can take 10, another 11 and commit first, and a reader that
-- has seen 11 and asks for "after 11" never sees 10. So sequence numbers
-- come from one counter row, incremented by the appending transaction at
-- its very end: its row lock is held until commit, so the next writer gets
-- the next number only once this one committed (or rolled back, leaving the
-- counter unchanged). A reader that sees sequence n therefore sees every
-- committed event below n. Cost: appending serialises writers from the
-- append to their commit (one short step, taken last).
create table outbox_counters (
  name text primary key check (name in ('sequence', 'retained_after')),
  value bigint not null check (value >= 0)
);
-- 'sequence': the last sequence handed out. 'retained_after': retention has
-- deleted every event up to this sequence (ListEvents refuses positions
-- below it: those readers missed events).
insert into outbox_counters (name, value) values ('sequence', 0), ('retained_after', 0);

create table outbox (
  sequence bigint primary key check (sequence > 0),
  id uuid not null unique,
  type text not null check (type like 'coaching.events.v1.%'),
  subject text not null,
  time timestamptz(3) not null,
  trace_id text not null default '',
  data jsonb not null,
  -- When the relay put it on the Redis stream; null while it waits.
  published_time timestamptz(3)
);
-- The relay's queue: unpublished events in order (small: drained continuously).
create index outbox_unpublished_idx on outbox (sequence) where published_time is null;
-- Retention: published events by age.
create index outbox_published_time_idx on outbox (published_time) where published_time is not null;
