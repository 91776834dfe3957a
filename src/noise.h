/* noise.h - from an insight a user calls noise to the narrowest rule that
 * would have kept it from the sinks (the `trailsight noise` command).
 *
 * The rule given is a `mark` rule whose scope is the insight's series
 * exactly: account, Region, eventSource, eventName, and for an error-rate
 * insight its errorCode. It holds that series and no other, so its
 * insights would have carried the rule and gone to no sink. When one
 * caller (a userIdentity ARN or a user agent) made at least half of the
 * insight window's events and a much smaller share of the baseline's, a
 * narrower `drop` rule for that caller within the same scope follows,
 * commented out: whether the rest of the series would still have been
 * unusual only a backfill under it can tell. A fall gets no caller rule.
 *
 * Values go into the rule as patterns (scope.h) that match them: a byte
 * the rules format cannot hold ('*', '?', '#', a control byte, a blank at
 * either end) becomes '?', and a value longer than a pattern may be is cut
 * to a prefix pattern. No I/O but in ts_noise_cli.
 */
#ifndef TS_NOISE_H
#define TS_NOISE_H

#include "insight_read.h"

/* A caller with at least this share of the insight window's events gets a
 * narrower rule of its own. */
#define TS_NOISE_CALLER_SHARE 0.5

/* Append to out the rule block for ev (comments saying what it holds, the
 * rule, and the narrower caller rule when one applies): every line under
 * 1023 bytes, values in comments cut short and their control bytes shown
 * as '?', so that the block loads as a rules file. 0; TS_EFIELD when a
 * value of the scope is empty (no pattern matches it alone; nothing is
 * appended); TS_ENOMEM. */
int ts_noise_rule(const ts_event *ev, ts_buf *out);

/* Append to out a pattern matching exactly v (or, if v is too long for a
 * pattern, every value starting with its first bytes). 0 or TS_ENOMEM. */
int ts_noise_pattern(ts_buf *out, const char *v);

/* `trailsight noise` with argv[0] = "noise". Returns the exit status: 0
 * every ID found and its rule printed, 1 bad usage, an unreadable file or
 * an ID not found (named on stderr), 2 out of memory. */
int ts_noise_cli(int argc, char **argv);

#endif
