"""SQLSTATEs of user_mgmt mapped to HTTP responses.

One handler for every database error, so that routes contain no
try/except.  Bodies are fixed per case: a failed login says the same thing
whatever the cause (unknown user, wrong password, locked, inactive), as the
database does; token failures do not tell why (the reason is in the
database's audit trail and session records).
"""

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError

log = logging.getLogger("api.errors")

BEARER = {"WWW-Authenticate": "Bearer"}
RETRY = {"Retry-After": "1"}

# SQLSTATE -> (HTTP status, body detail or None for the database's message, headers)
SQLSTATE_TO_HTTP = {
    "28P01": (401, "Incorrect username or password", BEARER),   # invalid_password: any failed login
    "28000": (401, "Could not validate credentials", BEARER),   # any bad token or ended session
    "23505": (409, "Username is already taken", {}),            # unique_violation (any letter case)
    "22023": (422, None, {}),    # invalid_parameter_value: password policy, username, full name
    "22004": (422, None, {}),    # null_value_not_allowed
    "55P03": (503, "The account is being changed, try again", RETRY),  # lock_not_available
    "25006": (503, "Read-only database, try again later", RETRY),      # read_only_sql_transaction (standby)
    "53200": (503, "Login service busy, try again", RETRY),            # insufficient_resources: no login writer answered
    "P0002": (404, "Not found", {}),                                   # no_data_found
}


def sqlstate(exc: DBAPIError):
    orig = getattr(exc, "orig", None)
    return getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)


def database_message(exc: DBAPIError) -> str:
    """The database's message alone: first line, no SQL, no parameters."""
    orig = getattr(exc, "orig", None)
    text = str(orig.__cause__ if getattr(orig, "__cause__", None) is not None else orig)
    text = text.splitlines()[0] if text else ""
    # asyncpg through SQLAlchemy: "<class '...'>: message"
    return text.split(">: ", 1)[-1]


def install(app: FastAPI) -> None:
    @app.exception_handler(DBAPIError)
    async def database_error(request: Request, exc: DBAPIError) -> JSONResponse:
        code = sqlstate(exc)
        mapped = SQLSTATE_TO_HTTP.get(code)
        if mapped is None:
            # hide_parameters=True (database.py) keeps passwords out of this
            log.error("database error %s on %s %s: %s", code, request.method, request.url.path,
                      database_message(exc))
            return JSONResponse(status_code=500, content={"detail": "Internal Server Error"})
        http_status, detail, headers = mapped
        return JSONResponse(status_code=http_status,
                            content={"detail": detail or database_message(exc)},
                            headers=headers)
