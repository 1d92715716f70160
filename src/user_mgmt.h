/*
 * user_mgmt.h
 *		Shared declarations of the fmgr binding layer.
 */
#ifndef USER_MGMT_H
#define USER_MGMT_H

/* Each module of the binding defines its own GUCs here. */
extern void um_password_init(void);

#endif							/* USER_MGMT_H */
