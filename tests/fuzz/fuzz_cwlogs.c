/* fuzz_cwlogs.c - the cwlogs shape read end to end (reader, shape.h, record
 * parser) with --format forcing it; see shape_fuzz.h for what is checked. */
#define FUZZ_FORMAT TS_FMT_CWLOGS
#define FUZZ_WRAPPER "CloudWatch Logs"
#include "shape_fuzz.h"
