--
-- The migration catalog as version 1.0 leaves it.
--
SELECT user_mgmt.current_version();

SELECT version, previous_version, direction, description,
       applied_by = current_user AS applied_by_me,
       applied_at <= clock_timestamp() AS applied_in_the_past
FROM user_mgmt.schema_migrations ORDER BY applied_at;

-- The catalog refuses rows that make no sense.
\x on
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.schema_migrations (applied_at, version, previous_version, direction, description, applied_by)
  VALUES ('2000-01-01 00:00:00+00', '9.9', NULL, 'sideways', 'nonsense', 'someone')$$);
SELECT * FROM regress.error_of($$
  INSERT INTO user_mgmt.schema_migrations (applied_at, version, previous_version, direction, description, applied_by)
  VALUES ('2000-01-01 00:00:00+00', '9.9', NULL, 'upgrade', 'an upgrade from nowhere', 'someone')$$);
\x off
