/* fuzz_lookup.c - the lookup shape read end to end (reader, shape.h, record
 * parser) with --format forcing it; see shape_fuzz.h for what is checked. */
#define FUZZ_FORMAT TS_FMT_LOOKUP
#define FUZZ_WRAPPER "lookup-events"
#include "shape_fuzz.h"
