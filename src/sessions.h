/*
 * sessions.h
 *		Sessions (version 1.4): their settings, and what the functions
 *		that open and use them share (session_functions.c).
 */
#ifndef USER_MGMT_SESSIONS_H
#define USER_MGMT_SESSIONS_H

#include "fmgr.h"
#include "datatype/timestamp.h"

#include "login_guard.h"

/* A refresh token as text: base64url of 32 random bytes, and a NUL. */
#define UM_REFRESH_TOKEN_LEN	43

/* The settings, in seconds (idle: 0 for none; max: 0 for no cap). */
extern int	um_session_idle_timeout(void);
extern int	um_session_lifetime(void);
extern int	um_max_sessions_per_user(void);

/*
 * A request to open a session of this origin for an account of this
 * epoch: a fresh random id and the caller's policy.  With refresh_token
 * (UM_REFRESH_TOKEN_LEN + 1 bytes), also a fresh refresh token: its text
 * goes there, only its hash into the request.
 */
extern void um_session_request_init(um_session_request *session, int origin,
									int64 epoch, int64 token_lifetime,
									char *refresh_token);

/*
 * Send a session request to the login writer and wait; raise an error
 * unless it was carried out (what names the action, for the message).
 */
extern void um_session_call(const um_login_request *request,
							um_login_reply *reply, const char *what);

/* The row sign_in() and refresh() return. */
extern Datum um_token_pair_datum(FunctionCallInfo fcinfo, text *access_token,
								 int64 access_exp, const char *refresh_token,
								 TimestampTz refresh_expires_at,
								 const uint8 *session_id);

/* Raise 55P03: a row of the session is held by another transaction. */
extern void um_session_busy(void) pg_attribute_noreturn();

extern void um_sessions_init(void);

#endif							/* USER_MGMT_SESSIONS_H */
