/*
 * login_guard_shmem.h
 *		The login guard's shared memory, seen by the requesting backends
 *		(login_guard.c) and by the writers (login_writer.c).
 *
 * One lock guards it all: every critical section is a few field copies.
 */
#ifndef USER_MGMT_LOGIN_GUARD_SHMEM_H
#define USER_MGMT_LOGIN_GUARD_SHMEM_H

#include "port/atomics.h"
#include "storage/lwlock.h"

#include "login_guard.h"

/* Databases whose writers may run at once. */
#define UM_MAX_WRITERS 32

/* How long a caller waits for a writer before it fails closed. */
#define UM_WRITER_TIMEOUT_MS 5000

typedef enum um_slot_state
{
	UM_SLOT_FREE = 0,
	UM_SLOT_QUEUED,				/* written by its backend, for the writer */
	UM_SLOT_TAKEN,				/* the writer is on it */
	UM_SLOT_DONE				/* the reply is there */
} um_slot_state;

/* One per backend (MyBackendId - 1): a backend has one request at a time. */
typedef struct um_login_slot
{
	int			state;			/* um_slot_state */
	bool		want_reply;		/* false: the writer frees the slot itself */
	uint64		seq;			/* arrival order, for the writer */
	Oid			dboid;
	pid_t		pid;
	int			pgprocno;		/* whose latch to set */
	um_login_request request;
	um_login_reply reply;
} um_login_slot;

typedef enum um_writer_state
{
	UM_WRITER_NONE = 0,
	UM_WRITER_STARTING,			/* registered, not yet serving */
	UM_WRITER_RUNNING
} um_writer_state;

typedef struct um_login_writer
{
	Oid			dboid;
	int			state;			/* um_writer_state */
	pid_t		pid;
	int			pgprocno;
	uint32		incarnation;	/* new for every writer that starts */
	TimestampTz since;			/* when it was registered */
	bool		stop_requested;
	bool		busy;			/* serving, or users rows still to update */
} um_login_writer;

typedef struct um_login_shared
{
	LWLock	   *lock;
	uint64		next_seq;
	uint32		next_incarnation;
	pg_atomic_uint64 stats[UM_STAT_COUNT];
	um_login_writer writers[UM_MAX_WRITERS];
	int			nslots;
	um_login_slot slots[FLEXIBLE_ARRAY_MEMBER];
} um_login_shared;

extern um_login_shared *um_login_shmem;

/* GUC user_mgmt.login_writer_idle_timeout, seconds; 0: never exit. */
extern int	um_login_writer_idle_timeout;

/* The writer's entry for a database, or NULL; call with the lock held. */
extern um_login_writer *um_login_writer_entry(Oid dboid);

extern PGDLLEXPORT void um_login_writer_main(Datum main_arg);

#endif							/* USER_MGMT_LOGIN_GUARD_SHMEM_H */
