-- What a superuser runs once per database for the example app:
--
--   psql -d app -v app_role=app -f examples/fastapi/setup.sql
--
-- The role itself is the cluster's (CREATE ROLE app LOGIN PASSWORD '...').
-- The extension needs shared_preload_libraries = 'user_mgmt' and a superuser
-- (it is not trusted).  examples/alembic's revisions do the same as this
-- file (alembic -x app_role=app upgrade head).
\set ON_ERROR_STOP on

CREATE EXTENSION IF NOT EXISTS user_mgmt;

-- README "Least privilege": all the application role gets.  sign_in,
-- refresh, logout, logout_all(), set_session_token and current_user_*()
-- are PUBLIC already; the role cannot read users (the hashes), the keys,
-- the sessions or the audit trail, and cannot make an ADMIN.
GRANT EXECUTE ON FUNCTION user_mgmt.sign_up(text, text, text) TO :"app_role";
GRANT SELECT ON user_mgmt.accounts TO :"app_role";
