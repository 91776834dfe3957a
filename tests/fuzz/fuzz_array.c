/* fuzz_array.c - the array shape read end to end (reader, shape.h, record
 * parser) with --format forcing it; see shape_fuzz.h for what is checked. */
#define FUZZ_FORMAT TS_FMT_ARRAY
#define FUZZ_WRAPPER NULL
#include "shape_fuzz.h"
