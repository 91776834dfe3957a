/* err.h - the one list of trailsight error codes.
 *
 * Every function that can fail returns 0 (TS_OK) or one of these negative
 * codes. ts_strerror() gives the message; ts_errname() the symbolic name
 * (for --stats keys and logs). Codes are stable: append, never renumber.
 */
#ifndef TS_ERR_H
#define TS_ERR_H

/* X(NAME, value, "message") */
#define TS_ERRORS(X)                                                   \
	X(TS_OK, 0, "success")                                         \
	X(TS_ENOMEM, -1, "out of memory")                              \
	X(TS_EIO, -2, "input/output error")                            \
	X(TS_EINVAL, -3, "invalid argument")                           \
	X(TS_EJSON, -4, "invalid JSON")                                \
	X(TS_ETOOBIG, -5, "record larger than the record size cap")    \
	X(TS_EGZIP, -6, "corrupt gzip data")                           \
	X(TS_ETRUNC, -7, "truncated input")                            \
	X(TS_EUTF8, -8, "invalid UTF-8")                               \
	X(TS_ENOTIME, -9, "no eventTime")                              \
	X(TS_EBADTIME, -10, "malformed eventTime")                     \
	X(TS_EFIELD, -11, "missing or malformed field")                \
	X(TS_ERATIO, -12, "inflate ratio over the cap")                \
	X(TS_ECAP, -13, "capacity limit reached")                      \
	X(TS_ESTORE, -14, "store failure")                             \
	X(TS_ENOTLOG, -15, "not a CloudTrail log")                     \
	X(TS_EDEPTH, -16, "JSON nested deeper than the cap")           \
	X(TS_ETOKENS, -17, "record has more JSON tokens than the cap")  \
	X(TS_EFUTURE, -18, "eventTime far ahead of the partition's other records") \
	X(TS_EUTF16, -19, "UTF-16 text, not UTF-8 (convert it first, e.g. iconv -f UTF-16 -t UTF-8)")

enum ts_err {
#define TS_ERR_ENUM(name, val, msg) name = (val),
	TS_ERRORS(TS_ERR_ENUM)
#undef TS_ERR_ENUM
};

#define TS_ERR_COUNT 19 /* number of codes, for tables indexed by -code */

/* Message for a code; never NULL ("unknown error" for codes not listed). */
const char *ts_strerror(int code);
/* Symbolic name without the TS_E prefix, lower case ("json", "toobig");
 * never NULL. */
const char *ts_errname(int code);

#endif
