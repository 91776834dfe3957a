/* insight.h - one CloudTrail Insights event and its exact JSON form.
 *
 * The writer produces the key order, number format and IDs described in
 * docs/DESIGN.md (section 6, "Insight events"). It does no I/O: it appends to a
 * ts_buf. IDs are name-based UUIDs (version 5, SHA-1) derived from the
 * event's content, so a re-run over the same records writes the same IDs.
 */
#ifndef TS_INSIGHT_H
#define TS_INSIGHT_H

#include <stdint.h>

#include "model.h"
#include "util.h"

enum ts_insight_type { TS_CALL_RATE = 0, TS_ERROR_RATE = 1 };
enum ts_insight_state { TS_STATE_START = 0, TS_STATE_END = 1 };

#define TS_ATTR_TOP 5

typedef struct ts_attr_value {
	ts_str value;   /* e.g. an ARN; "null" for a successful call's errorCode */
	double average; /* events per minute of that value in the window */
} ts_attr_value;

/* One attribute's top values, each list sorted by average, descending. */
typedef struct ts_attr_list {
	const char *attribute; /* "userIdentityArn", "userAgent", "errorCode" */
	unsigned n_insight, n_baseline;
	ts_attr_value insight[TS_ATTR_TOP];
	ts_attr_value baseline[TS_ATTR_TOP];
} ts_attr_list;

/* Everything one event says. The strings are borrowed: the caller keeps
 * them alive during ts_insight_write(). */
typedef struct ts_insight {
	int state;            /* TS_STATE_START or TS_STATE_END */
	int type;             /* TS_CALL_RATE or TS_ERROR_RATE */
	ts_str account;       /* recipientAccountId */
	ts_str region;        /* awsRegion */
	ts_str event_source;
	ts_str event_name;
	ts_str error_code;    /* error-rate only; p == NULL for call rate */
	int data_events;      /* 1: sourceEventCategory "Data", else "Management" */
	int64_t start_minute; /* the onset (change point), epoch minutes */
	double baseline_average;
	int64_t baseline_duration; /* minutes */
	double insight_average;
	int64_t insight_duration;  /* minutes; the End's eventTime is
				      start_minute + insight_duration */
	unsigned n_attrs;
	ts_attr_list attrs[3];
	/* trailsightContext: written when model != NULL */
	const char *model;     /* profile name */
	double expected;       /* expected events per minute at the start */
	double p_value;        /* tail probability of the window that Started it */
	const char *suppressed_by; /* the mark rule holding the series, or NULL */
	/* what the expected rate came from (expectedFrom; day_class
	 * TS_DAY_NONE: not written) */
	ts_basis basis;
	/* when a Start was decided (written in its trailsightContext, with
	 * model): decision_time, the newest eventTime seen then, unix
	 * seconds (<= 0: not written); decision_wall, the wall clock then
	 * (<= 0: not written); early: decided on minutes still open */
	int64_t decision_time;
	int64_t decision_wall;
	int early;
} ts_insight;

/* Append the event as one line of JSON (no trailing newline) to out.
 * Returns 0, TS_ENOMEM, TS_ECAP (out's cap) or TS_EINVAL: state or type
 * out of range, n_attrs > 3, a list longer than TS_ATTR_TOP, a NULL
 * attribute name, a non-finite average or expected rate, a NaN p_value,
 * a negative duration, or a start or End minute outside years 1970-9999.
 * On failure out is put back to its length on entry (callers written for
 * "may hold a partial line" stay correct). */
int ts_insight_write(const ts_insight *ins, ts_buf *out);

/* The UUIDs of an event, as 36-character lowercase text plus NUL.
 * shared: same for the Start and End of one episode (derived from account,
 * region, source, name, type, error code, sourceEventCategory and start
 * minute); event: distinct per event (shared plus the state). The exact
 * names hashed are documented at the top of insight.c. Cannot fail. */
void ts_insight_ids(const ts_insight *ins, char shared[37], char event[37]);

/* Longest text of ts_java_double(), NUL included ("-1.2345678901234567E-308"). */
#define TS_JAVA_DOUBLE_MAX 32
/* v (finite) as Java's Double.toString writes it: the shortest digits that
 * read back as v; for 10^-3 <= |v| < 10^7 a decimal with at least one digit
 * after the point ("5.0", "12.5", "0.001"), else computerized scientific
 * notation ("1.0E7", "9.82222E-5", no '+'). Zero, -0 included, is "0.0".
 * Writes out (NUL-terminated), returns the length. Cannot fail. */
size_t ts_java_double(double v, char out[TS_JAVA_DOUBLE_MAX]);
/* Append a number the CloudTrail way: Java's Double.toString of v rounded
 * to 10 decimal places ("0.0", "5.0", "50.1", "9.82222E-5", "1.0E20"),
 * never "-0.0". 0, TS_ENOMEM, TS_ECAP, or TS_EINVAL for NaN and
 * infinities; on failure out is unchanged. */
int ts_json_number(ts_buf *out, double v);
/* Append s as a JSON string with quotes: '"', '\\' and control characters
 * (< 0x20) escaped, other bytes (valid UTF-8, DEL) kept as they are; each
 * ill-formed UTF-8 subsequence becomes \ufffd, so the output is always
 * valid UTF-8. 0, TS_ENOMEM, TS_ECAP, or TS_EINVAL (s.p NULL with s.n > 0);
 * on failure out is unchanged. */
int ts_json_string(ts_buf *out, ts_str s);

/* Name-based UUID (RFC 4122 version 5) of name in namespace ns. */
void ts_uuid5(const uint8_t ns[16], const void *name, size_t len, uint8_t out[16]);
/* u as 36 lowercase characters 8-4-4-4-12 plus NUL. */
void ts_uuid_format(const uint8_t u[16], char out[37]);

#endif
