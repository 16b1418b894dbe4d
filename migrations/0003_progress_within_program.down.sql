-- Counts capped by the up migration stay capped.
alter table enrollments drop constraint enrollments_progress_within_program_check;
alter table enrollments drop constraint enrollments_program_total_sessions_fkey;
alter table enrollments drop column total_sessions;
alter table programs drop constraint programs_id_total_sessions_key;
