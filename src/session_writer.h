/*
 * session_writer.h
 *		The login writer's session work (1.4): opening, refreshing and
 *		revoking sessions through user_mgmt.session_*(), inside the
 *		writer's transaction for the request.
 */
#ifndef USER_MGMT_SESSION_WRITER_H
#define USER_MGMT_SESSION_WRITER_H

#include "login_guard.h"

/* Open request->session's session for request->user_id. */
extern void um_session_writer_open(const um_login_request *request,
								   um_login_reply *reply);

/* Exchange request->session.refresh_hash for session.next_hash. */
extern void um_session_writer_refresh(const um_login_request *request,
									  um_login_reply *reply);

/* End one session (by id or refresh hash) or every session of the user. */
extern void um_session_writer_revoke(const um_login_request *request,
									 um_login_reply *reply);

/* Drop the kept plans (after an error, or when the schema changed). */
extern void um_session_writer_forget_plans(void);

#endif							/* USER_MGMT_SESSION_WRITER_H */
