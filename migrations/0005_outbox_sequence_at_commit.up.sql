-- Outbox sequence numbers are handed out at commit, not by the writer.
--
-- Migration 0004 had the writer update the counter row itself and keep it
-- locked to its commit. That kept sequences commit-ordered, but the lock
-- was held across the writer's last client round trips (the outbox insert,
-- the idempotent response, COMMIT), each one also waiting for the service's
-- event loop: every write of the service queued on those round trips.
--
-- Now the writer inserts its events with sequence null, and a deferred
-- constraint trigger numbers each row during COMMIT, in the order the rows
-- were inserted (deferred trigger events fire in queue order). The counter
-- lock is taken there and released when the transaction's commit ends, so
-- the guarantee is the one of 0004 (a reader that sees sequence n sees
-- every committed event below n; a rolled-back write takes no number) with
-- the lock held only through the commit itself (its WAL flush, and the
-- wait for a synchronous standby when there is one), never across a client
-- round trip: commits that append events still happen one at a time. A row without a
-- sequence is never visible to another transaction: it is numbered before
-- its transaction commits.
alter table outbox drop constraint outbox_pkey, drop constraint outbox_id_key, add constraint outbox_pkey primary key (id);
alter table outbox alter column sequence drop not null;
create unique index outbox_sequence_key on outbox (sequence);

create function outbox_number_event() returns trigger language plpgsql as $$
declare
  assigned bigint;
begin
  -- Deleted again (or numbered) by its own transaction: it takes no number.
  perform from outbox where id = new.id and sequence is null;
  if not found then
    return null;
  end if;
  update outbox_counters set value = value + 1 where name = 'sequence' returning value into assigned;
  update outbox set sequence = assigned where id = new.id;
  return null;
end
$$;

create constraint trigger outbox_sequence_at_commit
  after insert on outbox deferrable initially deferred
  for each row execute function outbox_number_event();
