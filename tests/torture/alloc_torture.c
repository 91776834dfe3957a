/* alloc_torture.c - make the Nth allocation fail (the TS_ALLOC_TORTURE build).
 *
 * Compiled only into the TS_ALLOC_TORTURE build, which links every program
 * with -Wl,--wrap for each function below: calls to malloc, calloc, realloc,
 * strdup, strndup and realpath made by trailsight's own objects land here,
 * are counted, and go on to the real function (which, in a sanitizer build,
 * is the sanitizer's). The shared libraries (libc internals, zlib, hiredis,
 * GSL, libcurl) are not wrapped: they allocate as usual.
 *
 * Environment, read once at start:
 *   TS_ALLOC_FAIL_AT=N     the Nth counted call (from 1) returns NULL with
 *                          errno ENOMEM; every other call succeeds
 *   TS_ALLOC_COUNT_FILE=F  at exit, write "COUNT\n" (calls counted) to F
 *   TS_ALLOC_TRACE=1       print the stack of the failed call on stderr
 *                          (in a sanitizer build)
 * The counter is atomic; with several threads the order of calls, and so
 * which call is the Nth, may change from run to run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
char *__real_realpath(const char *path, char *resolved);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
char *__wrap_realpath(const char *path, char *resolved);

/* present in sanitizer builds only */
void __sanitizer_print_stack_trace(void) __attribute__((weak));

static unsigned long fail_at; /* 0: never */
static unsigned long calls;   /* atomic */
static int trace;
static const char *count_file;

static void torture_report(void)
{
	if (!count_file)
		return;
	FILE *f = fopen(count_file, "w");
	if (!f)
		return;
	fprintf(f, "%lu\n", __atomic_load_n(&calls, __ATOMIC_RELAXED));
	fclose(f);
}

__attribute__((constructor(101))) static void torture_init(void)
{
	const char *s = getenv("TS_ALLOC_FAIL_AT");
	if (s && *s)
		fail_at = strtoul(s, NULL, 10);
	trace = getenv("TS_ALLOC_TRACE") != NULL;
	count_file = getenv("TS_ALLOC_COUNT_FILE");
	if (count_file && *count_file)
		atexit(torture_report);
	else
		count_file = NULL;
}

/* Count one call; nonzero when it is the one to fail. */
static int fail_now(void)
{
	unsigned long n = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	if (!fail_at || n != fail_at)
		return 0;
	if (trace) {
		static const char msg[] = "alloc_torture: failing this allocation:\n";
		fwrite(msg, 1, sizeof msg - 1, stderr);
		if (__sanitizer_print_stack_trace)
			__sanitizer_print_stack_trace();
	}
	errno = ENOMEM;
	return 1;
}

void *__wrap_malloc(size_t n) { return fail_now() ? NULL : __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t size) { return fail_now() ? NULL : __real_calloc(n, size); }
void *__wrap_realloc(void *p, size_t n) { return fail_now() ? NULL : __real_realloc(p, n); }
char *__wrap_strdup(const char *s) { return fail_now() ? NULL : __real_strdup(s); }
char *__wrap_strndup(const char *s, size_t n) { return fail_now() ? NULL : __real_strndup(s, n); }

char *__wrap_realpath(const char *path, char *resolved)
{
	/* only the form that allocates its result is an allocation */
	if (!resolved && fail_now())
		return NULL;
	return __real_realpath(path, resolved);
}
