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
 *
 * Fork mode, for a single-threaded run (walk.sh --fork): one run visits
 * every N instead of one run per N. Each counted call N in [FROM, TO]
 * forks; the child fails that call and runs on to its exit, the parent
 * goes on as a clean run. The state at the Nth call is the same as in a
 * run started with TS_ALLOC_FAIL_AT=N, without repeating the N - 1 calls
 * before it.
 *   TS_ALLOC_FORK_DIR=D       turn it on; the child of N writes its
 *                             standard output to D/N.out and its error
 *                             output to D/N.err, and D/N.off holds the
 *                             parent's standard output offset at the fork
 *                             (what the clean run had written by then;
 *                             the parent flushes its streams before each
 *                             fork); the parent appends "N STATUS" to
 *                             D/status for each child reaped, STATUS the
 *                             exit status or 128 + the signal
 *   TS_ALLOC_FORK_FROM, _TO   the range of N (default every call)
 *   TS_ALLOC_FORK_JOBS=J      children alive at once (default 2, max 64)
 *   TS_ALLOC_FORK_TIMEOUT=S   a child is killed by SIGALRM after S seconds
 *                             (default 300)
 * The child reopens every regular file it has open (standard input
 * included) at the same offset, so that it reads and writes without moving
 * the parent's offsets; standard input must be a regular file.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

static const char *fork_dir; /* NULL: fork mode off */
static unsigned long fork_from = 1, fork_to = ULONG_MAX;
static unsigned fork_jobs = 2, fork_timeout = 300;
static int in_child;
static struct kid {
	pid_t pid;
	unsigned long n;
} kids[64];
static unsigned nkids;
static int status_fd = -1;

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

/* Wait for one child (any when pid is -1) and log its status. */
static void reap(pid_t pid)
{
	int st;
	pid_t got;
	while ((got = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (got <= 0)
		return;
	for (unsigned i = 0; i < nkids; i++) {
		if (kids[i].pid != got)
			continue;
		int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		char line[64];
		int len = snprintf(line, sizeof line, "%lu %d\n", kids[i].n, code);
		if (write(status_fd, line, (size_t)len) != len)
			perror("alloc_torture: status");
		kids[i] = kids[--nkids];
		return;
	}
}

static void reap_all(void)
{
	if (in_child)
		return;
	while (nkids)
		reap(-1);
}

static unsigned long env_ul(const char *name, unsigned long dflt)
{
	const char *s = getenv(name);
	return s && *s ? strtoul(s, NULL, 10) : dflt;
}

static void fork_init(void)
{
	const char *d = getenv("TS_ALLOC_FORK_DIR");
	if (!d || !*d)
		return;
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/status", d);
	status_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (status_fd < 0) {
		perror(path);
		_exit(125);
	}
	fork_dir = d;
	fork_from = env_ul("TS_ALLOC_FORK_FROM", 1);
	fork_to = env_ul("TS_ALLOC_FORK_TO", ULONG_MAX);
	fork_jobs = (unsigned)env_ul("TS_ALLOC_FORK_JOBS", 2);
	if (fork_jobs < 1 || fork_jobs > sizeof kids / sizeof *kids)
		fork_jobs = 2;
	fork_timeout = (unsigned)env_ul("TS_ALLOC_FORK_TIMEOUT", 300);
	atexit(reap_all);
}

/* Redirect fd to D/N.SUFFIX in the child; _exit(125) when it cannot. */
static void child_file(int fd, unsigned long n, const char *suffix)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%lu.%s", fork_dir, n, suffix);
	int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (f < 0 || dup2(f, fd) < 0)
		_exit(125);
	close(f);
}

/* In the child: give every regular file it has open a file description of
 * its own at the same offset, so that its reads and writes (of standard
 * input, of the file being read) do not move the parent's offsets. */
static void unshare_files(void)
{
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		_exit(125);
	int skip = dirfd(d);
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		int fd = atoi(e->d_name);
		struct stat st;
		if (fd == skip || fstat(fd, &st) || !S_ISREG(st.st_mode))
			continue;
		int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
		off_t off = lseek(fd, 0, SEEK_CUR);
		char path[64];
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
		int nfd = open(path, fl & (O_ACCMODE | O_APPEND));
		if (nfd < 0 || lseek(nfd, off, SEEK_SET) != off || dup2(nfd, fd) < 0)
			_exit(125);
		close(nfd);
		fcntl(fd, F_SETFD, fdfl);
	}
	closedir(d);
}

/* Fork at call n: 1 in the child (the call fails), 0 in the parent. */
static int fork_at(unsigned long n)
{
	while (nkids >= fork_jobs)
		reap(-1);
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		perror("alloc_torture: fork");
		_exit(125);
	}
	if (pid) {
		kids[nkids++] = (struct kid){pid, n};
		return 0;
	}
	in_child = 1;
	count_file = NULL; /* the count is the parent's */
	close(status_fd);
	off_t off = lseek(STDOUT_FILENO, 0, SEEK_CUR);
	unshare_files();
	child_file(STDOUT_FILENO, n, "out");
	child_file(STDERR_FILENO, n, "err");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%lu.off", fork_dir, n);
	FILE *f = fopen(path, "w");
	if (!f || fprintf(f, "%lld\n", (long long)off) < 0 || fclose(f))
		_exit(125);
	alarm(fork_timeout);
	return 1;
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
	fork_init();
}

/* Count one call; nonzero when it is the one to fail. */
static int fail_now(void)
{
	unsigned long n = __atomic_add_fetch(&calls, 1, __ATOMIC_RELAXED);
	int forked = fork_dir && !in_child && n >= fork_from && n <= fork_to && fork_at(n);
	if (!forked && (!fail_at || n != fail_at))
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
