-- An enrollment never counts more completed sessions than its program has.
-- A check constraint cannot look into another table, so each enrollment keeps
-- a copy of its program's total_sessions, held equal to the program's by a
-- foreign key on (program_id, total_sessions), the same pattern as the
-- role-checking keys of 0002. The key restricts (nothing cascades silently):
-- total_sessions of a program cannot change while anyone is enrolled, which is
-- also the service's rule (UpdateProgram: PROGRAM_HAS_ENROLLMENTS).
alter table programs add constraint programs_id_total_sessions_key unique (id, total_sessions);

alter table enrollments add column total_sessions integer;
update enrollments e set total_sessions = p.total_sessions from programs p where p.id = e.program_id;

-- Earlier versions kept counting completions after an enrollment was
-- COMPLETED (progress_percent was capped at 100 already). Such counts are
-- capped at the program's total, as the percentage was; the extra sessions
-- stay COMPLETED. The row's version moves, so etags read before are stale.
update enrollments
set completed_sessions = total_sessions, progress_percent = 100, update_time = now(), version = version + 1
where completed_sessions > total_sessions;

alter table enrollments alter column total_sessions set not null;
alter table enrollments add constraint enrollments_program_total_sessions_fkey
  foreign key (program_id, total_sessions) references programs (id, total_sessions);
alter table enrollments add constraint enrollments_progress_within_program_check
  check (completed_sessions <= total_sessions);
