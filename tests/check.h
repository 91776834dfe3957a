/* check.h - the unit test harness: one test binary per module.
 *
 * A test file defines functions `static void test_x(void)` and a
 * `TS_TESTS(test_a, test_b, ...)` line, which expands to main(). A failed
 * CHECK prints file:line and the expression and marks the test failed; the
 * test goes on. main() prints "N passed, M failed, K skipped" and exits 1
 * if any test failed, else 77 (ctest's SKIP_RETURN_CODE) if a test called
 * TS_SKIP, else 0. Arguments select tests by name: `test_x a b` runs a and
 * b only, `test_x --except a` all but a.
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

static int ts_check_skipped_;

/* A test that cannot run (a missing sample folder, a missing tool) says
 * why and is counted as skipped: the binary then exits 77, which ctest
 * reports as skipped (SKIP_RETURN_CODE) instead of passed. */
#define TS_SKIP(...)                                   \
	do {                                           \
		fprintf(stderr, "SKIP: " __VA_ARGS__); \
		fputc('\n', stderr);                   \
		ts_check_skipped_ = 1;                 \
	} while (0)

/* Whether the test named (name, len) is selected by the arguments: none
 * selects all; `NAME...` selects those; `--except NAME...` all but those. */
static inline int ts_test_selected_(const char *name, size_t len, int argc, char **argv)
{
	if (argc < 2)
		return 1;
	int except = strcmp(argv[1], "--except") == 0;
	for (int i = except ? 2 : 1; i < argc; i++)
		if (strlen(argv[i]) == len && memcmp(argv[i], name, len) == 0)
			return !except;
	return except;
}

static inline int ts_run_tests_(const char *names, ts_test_fn *fns, size_t n, int argc,
				char **argv)
{
	int passed = 0, failed = 0, skipped = 0;
	const char *p = names;
	for (size_t i = 0; i < n; i++) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		if (!ts_test_selected_(p, (size_t)(e - p), argc, argv)) {
			p = e;
			continue;
		}
		ts_check_failed_ = 0;
		ts_check_skipped_ = 0;
		fns[i]();
		const char *how = ts_check_failed_ ? "FAIL" : ts_check_skipped_ ? "SKIP" : "ok  ";
		fprintf(stderr, "%s %.*s\n", how, (int)(e - p), p);
		if (ts_check_failed_)
			failed++;
		else if (ts_check_skipped_)
			skipped++;
		else
			passed++;
		p = e;
	}
	printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
	return failed ? 1 : skipped ? 77 : 0;
}

#define TS_TESTS(...)                                                     \
	int main(int argc, char **argv)                                   \
	{                                                                 \
		ts_test_fn fns_[] = {__VA_ARGS__};                        \
		return ts_run_tests_(#__VA_ARGS__, fns_,                  \
				     sizeof fns_ / sizeof fns_[0], argc, argv); \
	}

#endif
