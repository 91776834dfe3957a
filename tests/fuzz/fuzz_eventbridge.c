/* fuzz_eventbridge.c - the eventbridge shape read end to end (reader, shape.h, record
 * parser) with --format forcing it; see shape_fuzz.h for what is checked. */
#define FUZZ_FORMAT TS_FMT_EVENTBRIDGE
#define FUZZ_WRAPPER "EventBridge"
#include "shape_fuzz.h"
