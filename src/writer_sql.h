/*
 * writer_sql.h
 *		Helpers the login writer's modules share to call their SQL
 *		functions through SPI (defined in login_writer.c).
 */
#ifndef USER_MGMT_WRITER_SQL_H
#define USER_MGMT_WRITER_SQL_H

#include "executor/spi.h"

/* A kept plan for sql, prepared on first use into *cache. */
extern SPIPlanPtr um_writer_plan(SPIPlanPtr *cache, const char *sql,
								 int nargs, Oid *types);

/* Argument i as text; NULL for NULL or an empty string. */
extern void um_writer_text_arg(Datum *values, char *nulls, int i, const char *s);

/* Argument i as inet from its text; NULL for an empty string. */
extern void um_writer_inet_arg(Datum *values, char *nulls, int i, const char *addr);

/* An interval of so many seconds. */
extern Datum um_writer_interval_seconds(int32 seconds);

#endif							/* USER_MGMT_WRITER_SQL_H */
