/* err.h - the one list of trailsight error codes.
 *
 * Every function that can fail returns 0 (TS_OK) or one of these negative
 * codes. ts_strerror() gives the message; ts_errname() the symbolic name
 * (for --stats keys and logs). Codes are stable: append, never renumber.
 */
#ifndef TS_ERR_H
#define TS_ERR_H

/* X(NAME, value, "name", "message"): the name is lower case, without the
 * TS_E prefix, and keys --stats and the metrics file. */
#define TS_ERRORS(X)                                                   \
	X(TS_OK, 0, "ok", "success")                                         \
	X(TS_ENOMEM, -1, "nomem", "out of memory")                              \
	X(TS_EIO, -2, "io", "input/output error")                            \
	X(TS_EINVAL, -3, "inval", "invalid argument")                           \
	X(TS_EJSON, -4, "json", "invalid JSON")                                \
	X(TS_ETOOBIG, -5, "toobig", "record larger than the record size cap")    \
	X(TS_EGZIP, -6, "gzip", "corrupt gzip data")                           \
	X(TS_ETRUNC, -7, "truncated", "truncated input")                            \
	X(TS_EUTF8, -8, "utf8", "invalid UTF-8")                               \
	X(TS_ENOTIME, -9, "no_event_time", "no eventTime")                              \
	X(TS_EBADTIME, -10, "bad_event_time", "malformed eventTime")                     \
	X(TS_EFIELD, -11, "bad_field", "missing or malformed field")                \
	X(TS_ERATIO, -12, "inflate_ratio", "inflate ratio over the cap")                \
	X(TS_ECAP, -13, "cap", "capacity limit reached")                      \
	X(TS_ESTORE, -14, "store", "store failure")                             \
	X(TS_ENOTLOG, -15, "not_a_log", "not a CloudTrail log")                     \
	X(TS_EDEPTH, -16, "depth", "JSON nested deeper than the cap")           \
	X(TS_ETOKENS, -17, "tokens", "record has more JSON tokens than the cap")  \
	X(TS_EFUTURE, -18, "future_time", "eventTime far ahead of the partition's other records") \
	X(TS_EUTF16, -19, "utf16", "UTF-16 text, not UTF-8 (convert it first, e.g. iconv -f UTF-16 -t UTF-8)") \
	X(TS_EFENCED, -20, "fenced", "checkpoint refused: the partition's lease belongs to another worker")

enum ts_err {
#define TS_ERR_ENUM(name, val, str, msg) name = (val),
	TS_ERRORS(TS_ERR_ENUM)
#undef TS_ERR_ENUM
};

/* Number of codes (TS_OK included): tables indexed by -code have this
 * many entries. Codes run 0, -1, -2, ... without gaps. */
#define TS_ERR_ONE(name, val, str, msg) +1
enum { TS_ERR_COUNT = 0 TS_ERRORS(TS_ERR_ONE) };
#undef TS_ERR_ONE

/* Message for a code; never NULL ("unknown error" for codes not listed). */
const char *ts_strerror(int code);
/* Symbolic name without the TS_E prefix, lower case ("json", "toobig");
 * never NULL. */
const char *ts_errname(int code);

#endif
