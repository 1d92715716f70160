--
-- Last: the login writer that the tests started keeps a connection to this
-- database; stop it, so that the next run can drop the database (as before
-- DROP DATABASE or CREATE DATABASE ... TEMPLATE in production).
--
SELECT (user_mgmt.login_statistics()).writer_pid IS NOT NULL AS writer_was_running;
SELECT user_mgmt.stop_login_writer() AS stopped;
SELECT (user_mgmt.login_statistics()).writer_pid IS NULL AS writer_gone;
