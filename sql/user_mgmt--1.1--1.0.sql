/*
 * user_mgmt 1.1 -> 1.0: back to the tutorial's "Initial Migrate".
 *
 * Keeps every user and every value that 1.0 can hold; the lifecycle
 * columns (timestamps, login counters, locks) have no place in 1.0 and go.
 * Leaves the objects exactly as a fresh 1.0 install has them.
 */

-- complain if script is sourced in psql, rather than via ALTER EXTENSION
\echo Use "ALTER EXTENSION user_mgmt UPDATE TO '1.0'" to load this file. \quit

/*
 * Refuse before changing anything: 1.0 has no way to say an account is
 * deactivated, so going back would silently re-enable those accounts.
 */
DO $$
DECLARE
	inactive text;
BEGIN
	SELECT pg_catalog.string_agg(pg_catalog.quote_literal(u.username), ', ' ORDER BY u.username)
	INTO inactive
	FROM user_mgmt.users AS u
	WHERE NOT u.is_active;

	IF inactive IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'cannot downgrade user_mgmt to 1.0: some accounts are deactivated',
			DETAIL = pg_catalog.format('Version 1.0 cannot mark an account inactive, so these accounts would be enabled again: %s.', inactive),
			HINT = 'Delete these accounts, or reactivate them (UPDATE user_mgmt.users SET is_active = true ...), then downgrade again.';
	END IF;
END
$$;

DROP FUNCTION user_mgmt.check_schema();
DROP FUNCTION user_mgmt.expected_schema_objects();
DROP FUNCTION user_mgmt.schema_objects();
DROP FUNCTION user_mgmt.public_privileges(aclitem[]);
DROP FUNCTION user_mgmt.pending_versions();
DROP FUNCTION user_mgmt.migration_history();

DROP TRIGGER users_track_changes ON user_mgmt.users;
DROP FUNCTION user_mgmt.users_track_changes();
DROP INDEX user_mgmt.users_username_lower_key;

ALTER TABLE user_mgmt.users
	DROP COLUMN created_at,
	DROP COLUMN updated_at,
	DROP COLUMN is_active,
	DROP COLUMN last_login_at,
	DROP COLUMN failed_login_count,
	DROP COLUMN locked_until,
	DROP COLUMN password_changed_at;

INSERT INTO user_mgmt.schema_migrations (version, previous_version, direction, description)
VALUES ('1.0', '1.1', 'downgrade',
		'Dropped the account lifecycle columns, case-insensitive username index and catalog functions of 1.1');
