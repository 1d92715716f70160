--
-- Set-up shared by the tests that follow: the extension itself and a
-- helper that shows the SQLSTATE, message, detail and hint of an error
-- (nothing here assumes a particular version: the tests describe the
-- default version, and migrations_catalog walks the others).
--
CREATE EXTENSION user_mgmt;

CREATE SCHEMA regress;
GRANT USAGE ON SCHEMA regress TO PUBLIC;

CREATE FUNCTION regress.error_of(stmt text,
	OUT state text, OUT message text, OUT detail text, OUT hint text)
LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE stmt;
	state := 'no error';
EXCEPTION WHEN OTHERS OR query_canceled THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE,
		message = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL,
		hint = PG_EXCEPTION_HINT;
	-- the failing row carries timestamps that change with every run
	IF detail LIKE 'Failing row contains %' THEN
		detail := 'Failing row contains (...).';
	END IF;
END
$$;

-- The helper itself: no error, and a plain one.
SELECT * FROM regress.error_of('SELECT 1');
SELECT * FROM regress.error_of('SELECT 1/0');

-- The extension lands in its own schema, at the default version.
SELECT extname, extversion, extnamespace::regnamespace, extrelocatable
FROM pg_extension WHERE extname = 'user_mgmt';
