-- Back to 0004: the writer numbers its events. Every committed row has its sequence.
drop trigger outbox_sequence_at_commit on outbox;
drop function outbox_number_event();
alter table outbox alter column sequence set not null;
alter table outbox drop constraint outbox_pkey, add constraint outbox_pkey primary key using index outbox_sequence_key, add constraint outbox_id_key unique (id);
