--
-- Version 1.3: sign_up, the audit trail (auth_events), its pruning, the
-- login statistics, and errors that carry no hash.
--
SET user_mgmt.bcrypt_cost = 4;
SELECT max(id) AS before FROM user_mgmt.auth_events \gset
SELECT COALESCE(:'before', '0')::bigint AS before \gset

-- sign_up: always a USER; the same checks as create_user.
SELECT user_mgmt.sign_up('Vera', 'vera password', 'Вера Павлова') AS vera \gset
SELECT username, role, full_name FROM user_mgmt.accounts WHERE id = :vera;
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_up('vera', 'another password', 'Twin')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_up('short', 'seven77', 'Short')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_up('blank', 'long enough', '   ')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_up('long', 'long enough', repeat('я', 41))$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_up('', 'long enough', 'Empty')$$);
\x off
SELECT user_mgmt.sign_up('nul', 'long enough', NULL) IS NULL AS strict;
-- There is no way to pass a role.
SELECT pg_get_function_arguments('user_mgmt.sign_up(text,text,text)'::regprocedure);

-- An error inside never shows the new row: its hash would go with it.
ALTER TABLE user_mgmt.users ADD COLUMN regress_note text NOT NULL DEFAULT 'x'
	CHECK (regress_note <> 'refused');
ALTER TABLE user_mgmt.users ALTER COLUMN regress_note SET DEFAULT 'refused';
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.sign_up('checked', 'long enough', 'Checked')$$);
\x off
ALTER TABLE user_mgmt.users DROP COLUMN regress_note;

-- The trail: account changes in the transaction that makes them, logins
-- by the login writer (so a rollback undoes neither a failure nor a login).
SELECT (user_mgmt.authenticate('vera', 'vera password')).username;
BEGIN;
SELECT user_mgmt.authenticate('VERA', 'wrong password') IS NULL AS failed;
ROLLBACK;
SELECT user_mgmt.authenticate('nobody here', 'whatever') IS NULL AS unknown;
-- The rolled-back failure counted: with a limit of 2 the next one locks.
SET user_mgmt.max_failed_logins = 2;
SELECT user_mgmt.authenticate('vera', 'wrong ' || i) IS NULL AS failed FROM generate_series(1, 2) AS i;
SELECT user_mgmt.authenticate('vera', 'vera password') IS NULL AS locked_out;
RESET user_mgmt.max_failed_logins;
SELECT user_mgmt.unlock_user(:vera);
SELECT user_mgmt.set_role(:vera, 'CASHIER');
BEGIN;
SELECT user_mgmt.set_role(:vera, 'ADMIN');
ROLLBACK;
SELECT user_mgmt.set_active(:vera, false);
SELECT user_mgmt.authenticate('vera', 'vera password') IS NULL AS inactive;
SELECT user_mgmt.set_active(:vera, true);
SELECT user_mgmt.change_password('vera', 'vera password', 'new vera password');
SELECT user_mgmt.set_password(:vera, 'third vera password');
SET user_mgmt.bcrypt_cost = 5;
SELECT (user_mgmt.authenticate('vera', 'third vera password')).username;
SET user_mgmt.bcrypt_cost = 4;
SELECT user_mgmt.delete_user(:vera);
SELECT user_mgmt.await_login_writer();

SELECT event, user_id IS NOT DISTINCT FROM :vera AS is_vera, username, detail,
       client_addr IS NULL AS over_unix_socket, application_name
FROM user_mgmt.auth_events WHERE id > :before ORDER BY id;

-- A username as given is kept, cut to 64 characters.
SELECT user_mgmt.authenticate(repeat('ж', 100), 'whatever') IS NULL AS unknown;
SELECT length(username) FROM user_mgmt.auth_events ORDER BY id DESC LIMIT 1;

-- Nobody but the extension's owner reads or writes the trail and the state.
SELECT c.relname, has_table_privilege('public', c.oid, 'SELECT') AS public_select,
       has_table_privilege('public', c.oid, 'INSERT') AS public_insert
FROM pg_class c
WHERE c.relnamespace = 'user_mgmt'::regnamespace AND c.relname IN ('auth_events', 'login_state')
ORDER BY 1;
-- pg_dump keeps both.
SELECT extconfig::regclass[] FROM pg_extension WHERE extname = 'user_mgmt';

-- Pruning: older than the retention (or than the argument) goes.
UPDATE user_mgmt.auth_events SET occurred_at = occurred_at - interval '100 days'
WHERE id = (SELECT min(id) FROM user_mgmt.auth_events WHERE id > :before);
SHOW user_mgmt.auth_events_retention;
SELECT user_mgmt.prune_auth_events() AS pruned;
SELECT user_mgmt.prune_auth_events() AS pruned_again;
SET user_mgmt.auth_events_retention = 0;
SELECT user_mgmt.prune_auth_events() AS kept_with_retention_0;
RESET user_mgmt.auth_events_retention;
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.prune_auth_events(interval '-1 day')$$);
-- older than any timestamp can be: nothing goes (not "timestamp out of range")
SELECT user_mgmt.prune_auth_events(interval '178000000 years') AS pruned_beyond_time;
\x off
SELECT user_mgmt.prune_auth_events(interval '0') > 0 AS all_pruned;
SELECT count(*) AS left_over FROM user_mgmt.auth_events;

-- The statistics count every attempt since the server started.
SELECT allowed > 0 AS allowed, checked > 0 AS checked, succeeded > 0 AS succeeded,
       refused_locked > 0 AS refused_locked, writer_pid IS NOT NULL AS writer_runs
FROM user_mgmt.login_statistics();
SELECT backend_type, datname = current_database() AS this_database
FROM pg_stat_activity WHERE pid = (user_mgmt.login_statistics()).writer_pid;

-- The writer's helpers are for the writer alone.
SELECT p.oid::regprocedure::text AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute
FROM pg_proc p
WHERE p.pronamespace = 'user_mgmt'::regnamespace
  AND (p.proname LIKE 'login_guard_%' OR p.proname IN ('record_auth_event', 'is_login_writer',
       'users_audit', 'check_full_name'))
ORDER BY 1;
SELECT user_mgmt.is_login_writer() AS this_is_the_writer;

RESET user_mgmt.bcrypt_cost;
