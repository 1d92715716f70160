/*
 * user_mgmt.h
 *		Shared declarations of the fmgr binding layer.
 */
#ifndef USER_MGMT_H
#define USER_MGMT_H

/* Each module of the binding defines its own GUCs here. */
extern void um_password_init(void);
extern void um_login_failures_init(void);
extern void um_tokens_init(void);
extern void um_session_init(void);

#endif							/* USER_MGMT_H */
