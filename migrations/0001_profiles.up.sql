-- Profiles of coaches and participants. Constraints mirror the request
-- validation in src/domain/rules.ts so the database enforces it too.
-- Timestamps carry millisecond precision: slonik reads timestamptz as epoch
-- milliseconds, and keyset pagination compares them exactly.
create table profiles (
  id uuid primary key default gen_random_uuid(),
  role text not null check (role in ('COACH', 'PARTICIPANT')),
  email text not null check (char_length(email) between 3 and 254 and email like '%_@_%'),
  display_name text not null check (char_length(display_name) between 1 and 100),
  timezone text not null check (char_length(timezone) between 1 and 64),
  bio text not null default '' check (char_length(bio) <= 2000),
  create_time timestamptz(3) not null default now(),
  update_time timestamptz(3) not null default now(),
  version integer not null default 1 check (version > 0)
);

-- Email is unique case-insensitively.
create unique index profiles_email_lower_key on profiles (lower(email));
-- Backs ListProfiles: order (create_time, id), optionally filtered by role.
create index profiles_create_time_id_idx on profiles (create_time, id);
create index profiles_role_create_time_id_idx on profiles (role, create_time, id);

-- Idempotency records: one per client request_id, holding the original
-- response so that a retried write returns exactly what the first returned.
create table idempotency_keys (
  request_id uuid primary key,
  operation text not null,
  request_hash text not null,
  response jsonb not null,
  create_time timestamptz(3) not null default now()
);
create index idempotency_keys_create_time_idx on idempotency_keys (create_time);
