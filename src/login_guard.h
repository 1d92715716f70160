/*
 * login_guard.h
 *		The login guard: every login attempt is decided and recorded by one
 *		background writer per database, outside the caller's transaction.
 *
 * A backend asks the writer twice per attempt, through a request slot of
 * its own in shared memory:
 *
 *	RESERVE   before the password is checked: may this account be tried now?
 *			  The writer charges the attempt as a failure, in a committed
 *			  transaction of its own, before it says yes.
 *	COMPLETE  after the check: the outcome.  A right password refunds the
 *			  charge; every outcome becomes one row of user_mgmt.auth_events.
 *
 * The writer handles requests one at a time, in arrival order, so attempts
 * on one account are serialized whatever the callers' isolation levels,
 * savepoints, rollbacks or numbers.  See README ("How the lockout holds").
 */
#ifndef USER_MGMT_LOGIN_GUARD_H
#define USER_MGMT_LOGIN_GUARD_H

#include "datatype/timestamp.h"

#include "core/bcrypt.h"

/* The username as given, as the audit trail keeps it (bytes, with NUL). */
#define UM_EVENT_USERNAME_BYTES 257		/* 64 characters of up to 4 bytes */
#define UM_EVENT_USERNAME_CHARS 64
#define UM_CLIENT_ADDR_BYTES	64
#define UM_APP_NAME_BYTES		64		/* NAMEDATALEN */

typedef enum um_login_kind
{
	UM_REQ_RESERVE = 1,
	UM_REQ_COMPLETE,
	UM_REQ_UNLOCK,
	UM_REQ_ABANDON,				/* a reservation whose check never finished */
	/* sessions (1.4): see session_request */
	UM_REQ_OPEN_SESSION,		/* issue_token's session, without a login */
	UM_REQ_REFRESH,				/* exchange a refresh token */
	UM_REQ_REVOKE				/* end one session, or all of a user's */
} um_login_kind;

/* What a check found; COMPLETE reports it. */
typedef enum um_login_outcome
{
	UM_OUTCOME_OK = 1,
	UM_OUTCOME_WRONG_PASSWORD,
	UM_OUTCOME_INACTIVE,
	UM_OUTCOME_UNKNOWN_USER,
	UM_OUTCOME_LOCKED,			/* refused at RESERVE: locked */
	UM_OUTCOME_BUSY,			/* refused at RESERVE: attempts in progress */
	UM_OUTCOME_ABANDONED		/* cancelled after RESERVE said yes */
} um_login_outcome;

typedef enum um_login_result
{
	UM_RESULT_NONE = 0,
	UM_RESULT_ALLOWED,			/* RESERVE: check the password */
	UM_RESULT_LOCKED,			/* RESERVE: the account is locked */
	UM_RESULT_BUSY,				/* RESERVE: the allowance is in flight */
	UM_RESULT_DONE,				/* COMPLETE, UNLOCK, ABANDON: recorded */
	UM_RESULT_FAILED,			/* the writer could not record it: fail closed */
	UM_RESULT_UNANSWERED		/* no writer answered in time: fail closed */
} um_login_result;

/* Where a session came from (sessions.origin). */
typedef enum um_session_origin
{
	UM_ORIGIN_LOGIN = 1,
	UM_ORIGIN_SIGN_IN,
	UM_ORIGIN_ISSUE_TOKEN
} um_session_origin;

/* Why a session ends (sessions.revoke_reason), as REVOKE asks. */
typedef enum um_revoke_reason
{
	UM_REVOKE_LOGOUT = 1,
	UM_REVOKE_LOGOUT_ALL,
	UM_REVOKE_REVOKED
} um_revoke_reason;

#define UM_SESSION_ID_BYTES		16
#define UM_REFRESH_HASH_BYTES	32	/* SHA-256 */
#define UM_USER_AGENT_BYTES		2049	/* 512 characters of up to 4 bytes */
#define UM_USERNAME_BYTES		81	/* varchar(20) of up to 4 bytes */
#define UM_ROLE_LABEL_BYTES		65
#define UM_REASON_BYTES			32

/*
 * The session part of a request.  COMPLETE of a right password with open
 * set, and OPEN_SESSION, open session id; REFRESH exchanges refresh_hash
 * for next_hash; REVOKE ends session id, or the session of refresh_hash,
 * or with neither every session of the request's user.
 */
typedef struct um_session_request
{
	bool		open;
	uint8		id[UM_SESSION_ID_BYTES];
	bool		has_id;
	int64		epoch;			/* users.session_epoch the login saw */
	int			origin;			/* um_session_origin */
	bool		has_refresh;
	uint8		refresh_hash[UM_REFRESH_HASH_BYTES];
	uint8		next_hash[UM_REFRESH_HASH_BYTES];
	int32		token_lifetime; /* seconds: the session of a lone token */
	int32		session_lifetime;	/* the caller's policy, seconds */
	int32		idle_timeout;
	int32		max_sessions;
	int			reason;			/* REVOKE: um_revoke_reason */
	bool		has_user_agent; /* given, even if empty */
	char		user_agent[UM_USER_AGENT_BYTES];
	char		given_client_addr[UM_CLIENT_ADDR_BYTES];
} um_session_request;

typedef struct um_login_request
{
	int			kind;			/* um_login_kind */
	int			outcome;		/* COMPLETE: um_login_outcome */
	bool		user_known;
	int32		user_id;
	int32		max_failed_logins;	/* the caller's policy */
	int32		lockout_seconds;
	bool		keep_off_users; /* COMPLETE: the caller updates the row */
	int64		ticket;			/* COMPLETE: from the RESERVE reply */
	uint32		incarnation;	/* COMPLETE: the writer that gave it */
	char		username[UM_EVENT_USERNAME_BYTES];
	char		client_addr[UM_CLIENT_ADDR_BYTES];
	char		application_name[UM_APP_NAME_BYTES];
	/* COMPLETE of a right password whose hash needs a higher cost */
	char		old_hash[BCRYPT_HASH_LEN + 1];
	char		new_hash[BCRYPT_HASH_LEN + 1];
	um_session_request session;
} um_login_request;

/* What the writer found for a session request (um_login_reply.session). */
typedef enum um_session_result
{
	UM_SESSION_NONE = 0,
	UM_SESSION_OK,				/* opened, refreshed or (REVOKE) done */
	UM_SESSION_UNKNOWN,			/* no such session or refresh token */
	UM_SESSION_REUSED,			/* a used refresh token: session revoked */
	UM_SESSION_REVOKED,			/* the session had ended: reason says why */
	UM_SESSION_EXPIRED,
	UM_SESSION_BUSY				/* a row another transaction holds */
} um_session_result;

typedef struct um_session_reply
{
	int			result;			/* um_session_result */
	uint8		id[UM_SESSION_ID_BYTES];
	int32		user_id;
	TimestampTz expires_at;		/* the session's end */
	TimestampTz refresh_expires_at; /* 0: no refresh token */
	int32		revoked;		/* REVOKE: how many sessions ended */
	char		reason[UM_REASON_BYTES];	/* REVOKED: why */
	char		username[UM_USERNAME_BYTES];	/* REFRESH: for the new token */
	char		role[UM_ROLE_LABEL_BYTES];
} um_session_reply;

typedef struct um_login_reply
{
	int			result;			/* um_login_result */
	int64		ticket;
	uint32		incarnation;
	int32		failed_count;	/* the account's count afterwards */
	TimestampTz locked_until;	/* 0: not locked */
	um_session_reply session;
} um_login_reply;

/* Counters for user_mgmt.login_statistics(), cluster-wide. */
typedef enum um_login_stat
{
	UM_STAT_ALLOWED = 0,		/* RESERVE said yes */
	UM_STAT_REFUSED_LOCKED,
	UM_STAT_REFUSED_BUSY,
	UM_STAT_CHECKED,			/* passwords checked against a real hash */
	UM_STAT_SUCCEEDED,
	UM_STAT_UNRECORDED,			/* failed closed: the writer did not answer */
	UM_STAT_COUNT
} um_login_stat;

/* True when the library was loaded by shared_preload_libraries. */
extern bool um_login_guard_ready(void);

/* Raise a clear error unless logins can be guarded here. */
extern void um_login_guard_require(void);

/*
 * Send a request to this database's writer and wait for its reply.  With
 * wait = false, send and return at once (reply untouched).  A reply of
 * UM_RESULT_UNANSWERED means no writer answered in time.
 */
extern void um_login_guard_call(const um_login_request *request,
								um_login_reply *reply, bool wait);

/* Fill the caller's client address and application_name. */
extern void um_login_request_set_client(um_login_request *request);

extern void um_login_stat_add(um_login_stat stat);

/* Module set-up, from _PG_init. */
extern void um_login_guard_init(void);

#endif							/* USER_MGMT_LOGIN_GUARD_H */
