/* bursts.h - regular bursts (cron jobs) in a call-rate history, for the
 * baseline (model.c): where they are, their mean and size per minute. */
#ifndef TS_BURSTS_H
#define TS_BURSTS_H

#include <stdint.h>

#include "util.h"

/* Find the regular bursts of hist[ndays * 1440] (the counts of the ndays
 * days before the day fitted; rate_h[24] the first seasonal guess per
 * minute of each hour, total the history's calls). Sets burst[m] for each
 * minute m of the day that is one (1: exact, at a minute of every hour;
 * 3: exact, at a minute of the day; 2: a minute a drifting run may take),
 * with its expected count bmean[m] and negative binomial size bsize[m]
 * (0: Poisson); leaves the other minutes as they are (burst[] must start
 * all 0). 0, or TS_ENOMEM (nothing set). */
int ts_bursts_find(const uint32_t *hist, int ndays, const double *rate_h, double total,
		   unsigned char *burst, float *bmean, float *bsize);

#endif
