/* daywin.c - the sliding day window of daywin.h. */
#include <stdlib.h>

#include "daywin.h"
#include "util.h"

uint32_t **ts_daywin_slot(ts_daywin *w, uint32_t n, int64_t day, unsigned *nfreed, int *nomem)
{
	*nomem = 0;
	if (!w->days) {
		if (!(w->days = calloc(n, sizeof *w->days))) {
			*nomem = 1;
			return NULL;
		}
		w->n = n;
		w->base = day - (n - 1);
	}
	if (day < w->base)
		return NULL;
	if (day >= w->base + w->n) {
		int64_t shift = day - (w->base + w->n - 1);
		for (int64_t i = 0; i < shift && i < w->n; i++) {
			if (w->days[i]) {
				free(w->days[i]);
				if (nfreed)
					(*nfreed)++;
			}
		}
		if (shift < w->n)
			memmove(w->days, w->days + shift, (w->n - shift) * sizeof *w->days);
		int64_t from = shift < w->n ? w->n - shift : 0;
		memset(w->days + from, 0, (w->n - from) * sizeof *w->days);
		w->base += shift;
	}
	return &w->days[day - w->base];
}

uint32_t *ts_daywin_get(const ts_daywin *w, int64_t day)
{
	if (!w->days || day < w->base || day >= w->base + w->n)
		return NULL;
	return w->days[day - w->base];
}

void ts_daywin_free(ts_daywin *w)
{
	for (uint32_t i = 0; i < w->n; i++)
		free(w->days[i]);
	free(w->days);
	w->days = NULL;
	w->n = 0;
}
