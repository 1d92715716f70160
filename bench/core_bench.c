/*
 * core_bench.c
 *		Time our bcrypt_hash against libxcrypt's crypt_rn in one process.
 *
 * The two are interleaved hash by hash, so background load and frequency
 * changes hit both alike, and medians discard the outliers.  Each pair is
 * also checked for identical output, so we never time a wrong answer.
 *
 * Usage: core_bench [label [scale]]   (scale multiplies the repetitions)
 */
#define _GNU_SOURCE
#include <crypt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bcrypt.h"

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
cmp_double(const void *a, const void *b)
{
	double		x = *(const double *) a;
	double		y = *(const double *) b;

	return (x > y) - (x < y);
}

static double
median(double *v, int n)
{
	qsort(v, n, sizeof(double), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	static const int costs[] = {4, 8, 10, 12};
	static const int reps[] = {201, 25, 11, 7};
	const char *label = argc > 1 ? argv[1] : "ours";
	double		scale = argc > 2 ? atof(argv[2]) : 1.0;
	const char *pw = "correct horse battery staple";
	struct crypt_data *cd = calloc(1, sizeof(struct crypt_data));
	size_t		c;

	printf("%-28s %4s %12s %14s %8s\n",
		   "build", "cost", "ours_ms", "libxcrypt_ms", "ratio");
	for (c = 0; c < sizeof(costs) / sizeof(costs[0]); c++)
	{
		int			n = (int) (reps[c] * scale) | 1;
		double	   *ours = malloc(n * sizeof(double));
		double	   *theirs = malloc(n * sizeof(double));
		char		setting[BCRYPT_SETTING_LEN + 1];
		int			i;

		snprintf(setting, sizeof(setting), "$2b$%02d$%s", costs[c],
				 "abcdefghijklmnopqrstuu");
		for (i = 0; i < n; i++)
		{
			char		out[BCRYPT_HASH_LEN + 1];
			char	   *ref;
			double		t0,
						t1,
						t2;

			/* Alternate which goes first, so neither always runs warm. */
			if (i % 2 == 0)
			{
				t0 = now_ms();
				bcrypt_hash((const uint8_t *) pw, strlen(pw), setting,
							strlen(setting), out);
				t1 = now_ms();
				ref = crypt_rn(pw, setting, cd, sizeof(*cd));
				t2 = now_ms();
				ours[i] = t1 - t0;
				theirs[i] = t2 - t1;
			}
			else
			{
				t0 = now_ms();
				ref = crypt_rn(pw, setting, cd, sizeof(*cd));
				t1 = now_ms();
				bcrypt_hash((const uint8_t *) pw, strlen(pw), setting,
							strlen(setting), out);
				t2 = now_ms();
				theirs[i] = t1 - t0;
				ours[i] = t2 - t1;
			}
			if (ref == NULL || strcmp(ref, out) != 0)
			{
				fprintf(stderr, "MISMATCH at cost %d: ours %s, libxcrypt %s\n",
						costs[c], out, ref ? ref : "(null)");
				return 1;
			}
		}
		{
			double		mo = median(ours, n);
			double		mt = median(theirs, n);

			printf("%-28s %4d %12.3f %14.3f %8.3f\n",
				   label, costs[c], mo, mt, mo / mt);
		}
		fflush(stdout);
		free(ours);
		free(theirs);
	}
	free(cd);
	return 0;
}
