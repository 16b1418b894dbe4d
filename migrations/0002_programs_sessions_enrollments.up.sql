-- Programs, enrollments and sessions. The database enforces every rule the
-- request validation checks (lengths, enums, ranges), the references between
-- rows (restrictive foreign keys: nothing cascades silently), the roles of the
-- people referenced, one enrollment per participant and program, and that no
-- coach or participant is booked twice at overlapping times.

-- gist exclusion over (uuid =, range &&) needs btree_gist's uuid operator class.
-- A trusted contrib extension: the database owner may create it.
create extension if not exists btree_gist;

-- Target of the role-checking foreign keys below: a row may reference
-- (id, 'COACH') only if that profile's role is COACH. Role is immutable.
alter table profiles add constraint profiles_id_role_key unique (id, role);

create table programs (
  id uuid primary key default gen_random_uuid(),
  coach_id uuid not null,
  coach_role text not null generated always as ('COACH') stored,
  title text not null check (char_length(btrim(title)) between 1 and 200),
  description text not null default '' check (char_length(description) <= 5000),
  status text not null default 'DRAFT' check (status in ('DRAFT', 'ACTIVE', 'ARCHIVED')),
  total_sessions integer not null check (total_sessions between 1 and 100),
  create_time timestamptz(3) not null default now(),
  update_time timestamptz(3) not null default now(),
  version integer not null default 1 check (version > 0),
  constraint programs_coach_fkey foreign key (coach_id, coach_role) references profiles (id, role)
);
-- ListPrograms: order (create_time, id), optionally by coach and/or status.
create index programs_create_time_id_idx on programs (create_time, id);
create index programs_coach_create_time_id_idx on programs (coach_id, create_time, id);
create index programs_status_create_time_id_idx on programs (status, create_time, id);

create table enrollments (
  id uuid primary key default gen_random_uuid(),
  participant_id uuid not null,
  participant_role text not null generated always as ('PARTICIPANT') stored,
  program_id uuid not null,
  status text not null default 'ACTIVE' check (status in ('ACTIVE', 'COMPLETED', 'WITHDRAWN')),
  completed_sessions integer not null default 0 check (completed_sessions >= 0),
  progress_percent integer not null default 0 check (progress_percent between 0 and 100),
  last_activity_time timestamptz(3) not null default now(),
  create_time timestamptz(3) not null default now(),
  update_time timestamptz(3) not null default now(),
  version integer not null default 1 check (version > 0),
  constraint enrollments_participant_program_key unique (participant_id, program_id),
  constraint enrollments_participant_fkey foreign key (participant_id, participant_role) references profiles (id, role),
  constraint enrollments_program_fkey foreign key (program_id) references programs (id)
);
-- ListEnrollments: order (create_time, id), optionally by participant, program
-- and/or status. The unique key serves lookups by (participant, program).
create index enrollments_create_time_id_idx on enrollments (create_time, id);
create index enrollments_participant_create_time_id_idx on enrollments (participant_id, create_time, id);
create index enrollments_program_create_time_id_idx on enrollments (program_id, create_time, id);
create index enrollments_status_create_time_id_idx on enrollments (status, create_time, id);

-- The booked time of a session, [start, start + minutes). Declared immutable
-- (timestamptz + interval is only stable, because day and month steps depend on
-- the time zone) so that a generated column and an index may use it: an
-- interval of minutes alone is the same number of microseconds in every zone.
create function session_period(start timestamptz, minutes integer) returns tstzrange
  language sql immutable strict parallel safe
  as $$ select tstzrange(start, start + make_interval(mins => minutes)) $$;

create table sessions (
  id uuid primary key default gen_random_uuid(),
  program_id uuid not null,
  coach_id uuid not null,
  coach_role text not null generated always as ('COACH') stored,
  participant_id uuid not null,
  scheduled_start timestamptz(3) not null,
  duration_minutes integer not null check (duration_minutes between 5 and 480),
  period tstzrange not null generated always as (session_period(scheduled_start, duration_minutes)) stored,
  status text not null default 'SCHEDULED' check (status in ('SCHEDULED', 'COMPLETED', 'CANCELLED', 'NO_SHOW')),
  notes text not null default '' check (char_length(notes) <= 5000),
  completed_time timestamptz(3),
  create_time timestamptz(3) not null default now(),
  update_time timestamptz(3) not null default now(),
  version integer not null default 1 check (version > 0),
  constraint sessions_completed_time_check check ((status = 'COMPLETED') = (completed_time is not null)),
  constraint sessions_coach_fkey foreign key (coach_id, coach_role) references profiles (id, role),
  -- A session belongs to the participant's enrollment in the program (which
  -- also guarantees the program exists and the participant is a PARTICIPANT).
  constraint sessions_enrollment_fkey foreign key (participant_id, program_id) references enrollments (participant_id, program_id),
  -- No double booking: a coach, and a participant, holds at most one
  -- non-cancelled session at any instant. Checked by the database, so it holds
  -- under concurrent writes too (the second writer waits, then fails).
  constraint sessions_coach_no_overlap exclude using gist (coach_id with =, period with &&) where (status <> 'CANCELLED'),
  constraint sessions_participant_no_overlap exclude using gist (participant_id with =, period with &&) where (status <> 'CANCELLED')
);
-- ListSessions: order (scheduled_start, id), optionally by program, coach,
-- participant and/or status, and by a scheduled_start range (a range scan of
-- the leading or second column).
create index sessions_scheduled_start_id_idx on sessions (scheduled_start, id);
create index sessions_program_scheduled_start_id_idx on sessions (program_id, scheduled_start, id);
create index sessions_coach_scheduled_start_id_idx on sessions (coach_id, scheduled_start, id);
create index sessions_participant_scheduled_start_id_idx on sessions (participant_id, scheduled_start, id);
create index sessions_status_scheduled_start_id_idx on sessions (status, scheduled_start, id);
-- The enrollment foreign key and GetProgramProgress's next session.
create index sessions_enrollment_scheduled_start_idx on sessions (participant_id, program_id, scheduled_start, id);
