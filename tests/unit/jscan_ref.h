/* jscan_ref.h - the earlier record scan, kept as a test oracle
 * (jscan_ref.c): the contract of ts_jscan() in jscan.h. */
#ifndef TS_JSCAN_REF_H
#define TS_JSCAN_REF_H

#include "jscan.h"

int ts_jscan_ref(const char *s, size_t n, const ts_jscan_want *w, ts_jtok *root, ts_jtok *sub,
		 int *high);

#endif
