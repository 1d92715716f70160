--
-- The accounts API: create_user, authenticate (lockout, rehash,
-- read-only), login, and the administrative functions.  Since 1.3 the
-- login writer decides every attempt; user_mgmt.accounts shows its state
-- at once, the users columns a moment later (await_login_writer()).
--
SET user_mgmt.bcrypt_cost = 4;

-- The accounts view: every column of users but the hash.
SELECT attname FROM pg_attribute
WHERE attrelid = 'user_mgmt.accounts'::regclass AND attnum > 0 ORDER BY attnum;

SELECT user_mgmt.create_user('Olga', 'correct horse', 'Ольга Смирнова', 'CASHIER') AS olga \gset
SELECT username, role, full_name, is_active, failed_login_count,
       password_changed_at IS NOT NULL AS password_dated,
       user_mgmt.hash_cost(hashed_password) AS cost
FROM user_mgmt.users WHERE id = :olga;

-- What create_user refuses.
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user('OLGA', 'another password', 'Twin')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user('short', 'seven77', 'Short Password')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user('long', repeat('я', 37), 'Long Password')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user(' olga', 'correct horse', 'Leading Space')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user(E'ol\tga', 'correct horse', 'Control')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user('', 'correct horse', 'Empty')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user(repeat('x', 21), 'correct horse', 'Too Long')$$);
-- Only the username indexes mean "taken": an application's own unique
-- index keeps its own error (and its row values stay hidden).
BEGIN;
CREATE UNIQUE INDEX app_unique_full_name ON user_mgmt.users (full_name);
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user('olga2', 'correct horse', 'Ольга Смирнова')$$);
ROLLBACK;
\x off
SET user_mgmt.min_password_length = 20;
SELECT * FROM regress.error_of($$SELECT user_mgmt.create_user('policy', 'correct horse', 'Policy')$$);
RESET user_mgmt.min_password_length;

-- authenticate: the account, matched regardless of case; NULL otherwise.
SELECT (a).username, (a).role, (a).failed_login_count, (a).last_login_at IS NOT NULL AS logged_in
FROM user_mgmt.authenticate('olga', 'correct horse') AS a;
SELECT user_mgmt.authenticate('olga', 'wrong horse') IS NULL AS wrong_password,
       user_mgmt.authenticate('nobody', 'correct horse') IS NULL AS unknown_user;
SELECT failed_login_count FROM user_mgmt.accounts WHERE id = :olga;

-- A failure counts even when the caller rolls back: it is recorded in a
-- transaction of its own, or brute force could simply roll back.
BEGIN;
SELECT user_mgmt.authenticate('olga', 'wrong again') IS NULL AS failed;
ROLLBACK;
SELECT failed_login_count FROM user_mgmt.accounts WHERE id = :olga;
-- ... and so does one in a read-only transaction.
BEGIN READ ONLY;
SELECT user_mgmt.authenticate('olga', 'wrong again') IS NULL AS failed;
COMMIT;
SELECT failed_login_count FROM user_mgmt.accounts WHERE id = :olga;
-- The users row gets a copy once the writer can lock it.
SELECT user_mgmt.await_login_writer();
SELECT failed_login_count FROM user_mgmt.users WHERE id = :olga;

-- A success resets the count.
SELECT (user_mgmt.authenticate('olga', 'correct horse')).failed_login_count;

-- Lockout after max_failed_logins consecutive failures ...
SET user_mgmt.max_failed_logins = 3;
SET user_mgmt.lockout_duration = '10min';
SELECT user_mgmt.authenticate('olga', 'x' || i) IS NULL AS failed FROM generate_series(1, 3) AS i;
SELECT failed_login_count, locked_until > now() + '9min' AS locked_for_10_minutes
FROM user_mgmt.accounts WHERE id = :olga;
-- ... and then the right password fails too, exactly like a wrong one.
SELECT user_mgmt.authenticate('olga', 'correct horse') IS NULL AS locked_out;
-- unlock_user lifts it.
SELECT user_mgmt.unlock_user(:olga);
SELECT (user_mgmt.authenticate('olga', 'correct horse')).username;

-- The users copy is the writer's: changing it by hand unlocks nobody.
\x on
SELECT * FROM regress.error_of(format('UPDATE user_mgmt.users SET locked_until = now() WHERE id = %s', :olga));
SELECT * FROM regress.error_of(format('UPDATE user_mgmt.users SET failed_login_count = failed_login_count + 1 WHERE id = %s', :olga));
\x off

-- A lock that has run out starts a new count (the lock is moved into the
-- past in the writer's own table, instead of waiting for it).
SELECT user_mgmt.authenticate('olga', 'x' || i) IS NULL AS failed FROM generate_series(1, 3) AS i;
UPDATE user_mgmt.login_state SET locked_until = now() - interval '1 second' WHERE user_id = :olga;
SELECT user_mgmt.authenticate('olga', 'wrong') IS NULL AS failed;
SELECT failed_login_count, locked_until FROM user_mgmt.accounts WHERE id = :olga;

-- max_failed_logins = 0: no lockout at all.
SET user_mgmt.max_failed_logins = 0;
SELECT count(*) FILTER (WHERE user_mgmt.authenticate('olga', 'x' || i) IS NULL) AS failures
FROM generate_series(1, 6) AS i;
SELECT failed_login_count, locked_until FROM user_mgmt.accounts WHERE id = :olga;
RESET user_mgmt.max_failed_logins;
RESET user_mgmt.lockout_duration;
-- (Six failures are more than the default five: the next one would lock.)
SELECT user_mgmt.unlock_user(:olga);

-- An inactive account fails like a wrong password.
SELECT user_mgmt.set_active(:olga, false);
SELECT user_mgmt.authenticate('olga', 'correct horse') IS NULL AS inactive_fails;
SELECT user_mgmt.set_active(:olga, true);

-- Rehash on login: the cost went up, the stored hash follows; the
-- password did not change, so neither does password_changed_at.
SELECT password_changed_at AS changed_before FROM user_mgmt.users WHERE id = :olga \gset
SET user_mgmt.bcrypt_cost = 5;
SELECT (user_mgmt.authenticate('olga', 'correct horse')).username;
SELECT user_mgmt.await_login_writer();
SELECT user_mgmt.hash_cost(hashed_password) AS cost,
       user_mgmt.verify_password('correct horse', hashed_password) AS verifies,
       password_changed_at = :'changed_before' AS password_date_kept
FROM user_mgmt.users WHERE id = :olga;
SET user_mgmt.bcrypt_cost = 4;

-- Read-only: it authenticates, and the writer still records the login.
UPDATE user_mgmt.login_state SET last_login_at = NULL WHERE user_id = :olga;
BEGIN READ ONLY;
SELECT (user_mgmt.authenticate('olga', 'correct horse')).username;
COMMIT;
SELECT last_login_at IS NOT NULL AS success_recorded FROM user_mgmt.accounts WHERE id = :olga;

-- Under REPEATABLE READ the account is read as it is now, not as the
-- snapshot has it: a password changed after the snapshot is the one checked.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT count(*) > 0 AS snapshot_taken FROM user_mgmt.accounts;
SELECT r AS changed_elsewhere
FROM dblink(format('host=%s port=%s dbname=%s', current_setting('unix_socket_directories'),
		current_setting('port'), current_database()),
	format('SELECT user_mgmt.set_password(%s, %L)::text', :olga, 'changed meanwhile')) AS t(r text);
SELECT user_mgmt.authenticate('olga', 'correct horse') IS NULL AS old_password_refused,
       (user_mgmt.authenticate('olga', 'changed meanwhile')).username AS new_password_works;
COMMIT;
SELECT user_mgmt.set_password(:olga, 'correct horse');

-- login: a token, or one error for every cause.
SELECT user_mgmt.verify_token(user_mgmt.login('OLGA', 'correct horse')) ->> 'username' AS token_for;
SELECT user_mgmt.create_user('pavel', 'pavel password', 'Павел') AS pavel \gset
SELECT user_mgmt.set_active(:pavel, false);
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.login('olga', 'wrong horse')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.login('nobody', 'correct horse')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.login('pavel', 'pavel password')$$);
\x off

-- Administration.
SELECT user_mgmt.set_password(:pavel, 'new pavel password');
SELECT user_mgmt.verify_password('new pavel password', hashed_password) AS new_password_set
FROM user_mgmt.users WHERE id = :pavel;
SELECT user_mgmt.set_role(:pavel, 'ADMIN');
SELECT role FROM user_mgmt.accounts WHERE id = :pavel;
SELECT user_mgmt.change_password('olga', 'correct horse', 'battery staple');
SELECT (user_mgmt.authenticate('olga', 'battery staple')).username;
\x on
SELECT * FROM regress.error_of($$SELECT user_mgmt.change_password('olga', 'correct horse', 'another one')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.change_password('olga', 'battery staple', 'short')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.set_password(0, 'whatever password')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.set_password(:pavel, 'short')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.set_role(0, 'ADMIN')$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.set_active(0, true)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.unlock_user(0)$$);
SELECT * FROM regress.error_of($$SELECT user_mgmt.delete_user(0)$$);
\x off
SELECT user_mgmt.delete_user(:pavel);
SELECT count(*) AS pavels FROM user_mgmt.users WHERE username = 'pavel';

-- Who may call what: administration is not for PUBLIC.
SELECT p.oid::regprocedure::text AS function,
       has_function_privilege('public', p.oid, 'EXECUTE') AS public_may_execute,
       p.prosecdef AS security_definer
FROM pg_proc p
WHERE p.pronamespace = 'user_mgmt'::regnamespace
  AND p.proname IN ('create_user', 'authenticate', 'login', 'set_password', 'change_password',
                    'set_role', 'set_active', 'unlock_user', 'delete_user', 'issue_token',
                    'verify_token', 'rotate_signing_key', 'retire_signing_key',
                    'export_signing_key', 'set_session_token', 'current_user_id',
                    'current_user_role', 'sign_up', 'login_statistics', 'await_login_writer',
                    'stop_login_writer', 'prune_auth_events')
ORDER BY 1;

-- The settings are policy: only superusers change them, so that no session
-- can switch off the lockout, weaken hashes or lengthen tokens for itself.
CREATE ROLE regress_user_mgmt_app;
SET ROLE regress_user_mgmt_app;
SELECT s.name, s.context, e.state, e.message
FROM pg_settings AS s,
     LATERAL regress.error_of(format('SET %I = %L', s.name, s.setting)) AS e
WHERE s.name LIKE 'user_mgmt.%' ORDER BY s.name;
-- and names the library does not define are refused, not made up
SELECT * FROM regress.error_of('SET user_mgmt.max_failed_login = 0');
RESET ROLE;
DROP ROLE regress_user_mgmt_app;

DELETE FROM user_mgmt.users WHERE username IN ('Olga');
RESET user_mgmt.bcrypt_cost;
