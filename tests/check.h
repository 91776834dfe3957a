/* check.h - the unit test harness: one test binary per module.
 *
 * A test file defines functions `static void test_x(void)` and a
 * `TS_TESTS(test_a, test_b, ...)` line, which expands to main(). A failed
 * CHECK prints file:line and the expression and marks the test failed; the
 * test goes on. main() prints "N passed, M failed" and exits non-zero if
 * any test failed.
 */
#ifndef TS_CHECK_H
#define TS_CHECK_H
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ts_check_failed_;

#define CHECK(cond)                                                           \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #cond);                             \
			ts_check_failed_ = 1;                                 \
		}                                                             \
	} while (0)

#define CHECK_INT(a, b)                                                          \
	do {                                                                     \
		long long a_ = (long long)(a), b_ = (long long)(b);              \
		if (a_ != b_) {                                                  \
			fprintf(stderr, "%s:%d: %s == %s failed: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, a_, b_);             \
			ts_check_failed_ = 1;                                    \
		}                                                                \
	} while (0)

#define CHECK_STR(a, b)                                                           \
	do {                                                                      \
		const char *a_ = (a), *b_ = (b);                                  \
		if (!a_ || !b_ || strcmp(a_, b_) != 0) {                          \
			fprintf(stderr, "%s:%d: %s == %s failed:\n  got  '%s'\n  want '%s'\n", \
				__FILE__, __LINE__, #a, #b, a_ ? a_ : "(null)",   \
				b_ ? b_ : "(null)");                              \
			ts_check_failed_ = 1;                                     \
		}                                                                 \
	} while (0)

/* Compare a slice (p, n) with a C string. */
#define CHECK_MEM(p, n, s)                                                        \
	do {                                                                      \
		const char *p_ = (p), *s_ = (s);                                  \
		size_t n_ = (n);                                                  \
		if (!s_ || strlen(s_) != n_ || (n_ && (!p_ || memcmp(p_, s_, n_)))) { \
			fprintf(stderr, "%s:%d: %s == %s failed: got '%.*s'\n",   \
				__FILE__, __LINE__, #p, #s, (int)n_, p_ ? p_ : ""); \
			ts_check_failed_ = 1;                                     \
		}                                                                 \
	} while (0)

typedef void (*ts_test_fn)(void);

static inline int ts_run_tests_(const char *names, ts_test_fn *fns, size_t n)
{
	int passed = 0, failed = 0;
	const char *p = names;
	for (size_t i = 0; i < n; i++) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		ts_check_failed_ = 0;
		fns[i]();
		fprintf(stderr, "%s %.*s\n", ts_check_failed_ ? "FAIL" : "ok  ", (int)(e - p), p);
		if (ts_check_failed_)
			failed++;
		else
			passed++;
		p = e;
	}
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#define TS_TESTS(...)                                               \
	int main(void)                                              \
	{                                                           \
		ts_test_fn fns_[] = {__VA_ARGS__};                  \
		return ts_run_tests_(#__VA_ARGS__, fns_,            \
				     sizeof fns_ / sizeof fns_[0]); \
	}

#endif
