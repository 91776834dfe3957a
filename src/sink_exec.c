/* sink_exec.c - the exec:CMD sink: each event as one line of NDJSON on the
 * standard input of `/bin/sh -c CMD`, for glue to anything else.
 *
 * The sink owns one child at a time (posix_spawn, its stdout sent to our
 * stderr so that it cannot mix with NDJSON on stdout) and the write end of
 * its stdin pipe, non-blocking. Every event waits in a FIFO (ts_sink_queue,
 * at most queue_max_events; past it new ones are dropped with an error)
 * until the command has read it: the bytes written to the pipe minus what
 * the pipe still holds (FIONREAD) say how far the command has read, and
 * only events read whole leave the queue (st.delivered). When the command
 * exits, or closes its input (it is then sent SIGTERM), the events it had
 * not read whole are written again, in order, to the next command: at
 * least once, never lost; a line it read part of arrives again whole. A
 * command that read something is restarted at once; one that exited having
 * read nothing is restarted after the retry backoff (1 s doubling to 60 s).
 * SIGPIPE is blocked around writes and a pending one consumed, so the
 * process's disposition does not matter; the child is reaped with
 * WNOHANG on every emit and tick, and waited for at finish, so no zombie
 * is left.
 *
 * Invariants: wr is NULL or an item of q, and the items before it were
 * written to the current pipe ("written" bytes from the start of q.head);
 * with no child, wr == q.head and written == 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sink_kit.h"
#include "util.h"

extern char **environ;

typedef struct exec_sink {
	ts_sink base;
	char *cmd;
	pid_t pid;         /* the running command, 0 when none */
	int fd;            /* the write end of its stdin, -1 when none */
	ts_sink_queue q;   /* events the command has not read whole, oldest first */
	ts_sink_qitem *wr; /* the next item to write, NULL when all are written */
	size_t wr_off;     /* bytes of wr's line (data and '\n') written */
	size_t written;    /* bytes written to this pipe from the start of q.head */
	int progressed;    /* the current command has read a whole event */
	ts_backoff bo;     /* restarts after a command that read nothing */
	char err[256];     /* why the last command stopped */
} exec_sink;

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Count the events the command has read whole as delivered. */
static void ack(exec_sink *es)
{
	int unread = 0;
	if (es->fd < 0 || ioctl(es->fd, FIONREAD, &unread) || unread < 0)
		return;
	size_t consumed = es->written - ((size_t)unread < es->written ? (size_t)unread : es->written);
	while (es->q.head && es->q.head != es->wr && es->q.head->len + 1 <= consumed) {
		size_t line = es->q.head->len + 1;
		consumed -= line;
		es->written -= line;
		ts_sink_queue_pop(&es->q);
		es->base.st.pending--;
		es->base.st.delivered++;
		es->progressed = 1;
	}
	if (es->progressed) {
		ts_backoff_ok(&es->bo);
		ts_sink_ok(&es->base);
	}
}

/* The command is gone (or cut off): forget its pipe, write the queue again
 * from its head to the next one. */
static void rewind_queue(exec_sink *es)
{
	if (es->fd >= 0)
		close(es->fd);
	es->fd = -1;
	es->wr = es->q.head;
	es->wr_off = 0;
	es->written = 0;
}

static void describe_exit(exec_sink *es, int status)
{
	if (WIFEXITED(status))
		snprintf(es->err, sizeof es->err, "command exited with status %d",
			 WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(es->err, sizeof es->err, "command killed by signal %d", WTERMSIG(status));
	else
		snprintf(es->err, sizeof es->err, "command stopped");
}

/* Reap the command if it has exited. 1 when it has (or there is none). */
static int reap(exec_sink *es, int64_t now)
{
	if (!es->pid)
		return 1;
	int status;
	pid_t r = waitpid(es->pid, &status, WNOHANG);
	if (r == 0)
		return 0;
	if (r < 0 && errno == EINTR)
		return 0;
	ack(es); /* what it read before it went */
	if (r < 0)
		snprintf(es->err, sizeof es->err, "waitpid: %s", strerror(errno));
	else
		describe_exit(es, status);
	es->pid = 0;
	rewind_queue(es);
	if (es->q.head) {
		es->base.st.failed++;
		ts_sink_fail(&es->base, "%s with %zu event%s unread (written again to the next "
					"command)",
			     es->err, es->q.n, es->q.n == 1 ? "" : "s");
	}
	if (!es->progressed)
		ts_backoff_fail(&es->bo, now);
	es->progressed = 0;
	return 1;
}

/* Start the command. 0, or -1 (logged, backoff started). */
static int start(exec_sink *es, int64_t now)
{
	int p[2];
	if (pipe(p)) {
		snprintf(es->err, sizeof es->err, "pipe: %s", strerror(errno));
		goto out_fail;
	}
	/* close-on-exec, so no other child keeps the pipe open */
	fcntl(p[0], F_SETFD, FD_CLOEXEC);
	fcntl(p[1], F_SETFD, FD_CLOEXEC);
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc)
		goto out_pipe;
	if ((rc = posix_spawnattr_init(&at))) {
		posix_spawn_file_actions_destroy(&fa);
		goto out_pipe;
	}
	char *argv[] = {"sh", "-c", es->cmd, NULL};
	if (!(rc = posix_spawn_file_actions_adddup2(&fa, p[0], 0)) &&
	    !(rc = posix_spawn_file_actions_adddup2(&fa, 2, 1)) &&
	    !(rc = posix_spawnattr_setsigmask(&at, &none)) &&
	    !(rc = posix_spawnattr_setsigdefault(&at, &def)) &&
	    !(rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)))
		rc = posix_spawn(&es->pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (rc) {
		es->pid = 0;
		goto out_pipe;
	}
	close(p[0]);
	int fl = fcntl(p[1], F_GETFL);
	if (fl >= 0)
		fcntl(p[1], F_SETFL, fl | O_NONBLOCK);
	es->fd = p[1];
	es->wr = es->q.head;
	es->wr_off = 0;
	es->written = 0;
	es->progressed = 0;
	return 0;
out_pipe:
	snprintf(es->err, sizeof es->err, "cannot start /bin/sh: %s", strerror(rc));
	close(p[0]);
	close(p[1]);
out_fail:
	es->base.st.failed++;
	ts_backoff_fail(&es->bo, now);
	ts_sink_fail(&es->base, "%s", es->err);
	return -1;
}

/* write(2) with SIGPIPE blocked, and consumed if this write raised it. */
static ssize_t write_nosig(int fd, const struct iovec *iov, int n)
{
	sigset_t pipe_set, old, pending;
	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	sigpending(&pending);
	int was_pending = sigismember(&pending, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	ssize_t w = writev(fd, iov, n);
	int e = errno;
	if (w < 0 && e == EPIPE && !was_pending) {
		struct timespec zero = {0, 0};
		while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
			;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = e;
	return w;
}

/* Write queued lines to the pipe until it is full or all are written. */
static void write_queue(exec_sink *es)
{
	while (es->fd >= 0 && es->wr) {
		ts_sink_qitem *it = es->wr;
		struct iovec v[2];
		int n = 0;
		if (es->wr_off < it->len)
			v[n++] = (struct iovec){it->data + es->wr_off, it->len - es->wr_off};
		v[n++] = (struct iovec){"\n", 1};
		ssize_t w = write_nosig(es->fd, v, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE) {
				/* it closed its input: end it, start another */
				snprintf(es->err, sizeof es->err, "command closed its standard input");
				ack(es);
				if (es->pid)
					kill(es->pid, SIGTERM);
				close(es->fd);
				es->fd = -1;
			}
			return; /* EAGAIN: the pipe is full */
		}
		es->written += (size_t)w;
		es->wr_off += (size_t)w;
		if (es->wr_off == it->len + 1) {
			es->wr = it->next;
			es->wr_off = 0;
		}
	}
}

/* Reap, restart, write, count what was read. */
static void pump(exec_sink *es, int64_t now, int force)
{
	reap(es, now);
	if (!es->pid && es->q.head && (force || ts_backoff_ready(&es->bo, now)))
		start(es, now);
	write_queue(es);
	ack(es);
}

static int exec_emit(ts_sink *s, const char *json, size_t len, int64_t now)
{
	exec_sink *es = (exec_sink *)s;
	s->st.events++;
	if (es->q.n >= s->o.queue_max_events) {
		ts_sink_drop_once(s, 1, "%zu events wait for the command, the cap (%s)", es->q.n,
				 es->err[0] ? es->err : "it reads too slowly");
		pump(es, now, 0);
		return 0;
	}
	if (ts_sink_queue_push(&es->q, json, len)) {
		ts_sink_drop(s, 1, "out of memory");
		return TS_ENOMEM;
	}
	if (!es->wr)
		es->wr = es->q.tail;
	s->st.pending++;
	pump(es, now, 0);
	return 0;
}

static void exec_tick(ts_sink *s, int64_t now)
{
	pump((exec_sink *)s, now, 0);
}

/* Wait up to ms for the command to exit, then SIGTERM, then SIGKILL. */
static void stop_child(exec_sink *es, int ms)
{
	if (es->fd >= 0) {
		close(es->fd); /* end of input */
		es->fd = -1;
	}
	int status, termed = 0;
	for (int waited = 0; es->pid; waited += 10) {
		pid_t r = waitpid(es->pid, &status, WNOHANG);
		if (r == es->pid || (r < 0 && errno != EINTR)) {
			es->pid = 0;
			break;
		}
		if (waited >= ms && !termed) {
			kill(es->pid, SIGTERM);
			termed = 1;
		}
		if (waited >= ms + 2000) {
			kill(es->pid, SIGKILL);
			while (waitpid(es->pid, &status, 0) < 0 && errno == EINTR)
				;
			es->pid = 0;
			break;
		}
		sleep_ms(10);
	}
	rewind_queue(es);
}

static void exec_finish(ts_sink *s, int64_t now)
{
	exec_sink *es = (exec_sink *)s;
	/* one last try, bounded in real time whatever the sink's clock says;
	 * a command that read something is restarted at once, one that read
	 * nothing waits for its backoff as usual */
	int steps = s->o.exec_finish_ms / 10;
	for (int i = 0; es->q.head && i < steps; i++) {
		pump(es, ts_sink_now(s), i == 0);
		if (!es->q.head)
			break;
		if (es->fd >= 0 && es->wr) { /* room in the pipe for more */
			struct pollfd pf = {es->fd, POLLOUT, 0};
			(void)poll(&pf, 1, 10);
		} else {
			sleep_ms(10);
		}
	}
	(void)now;
	stop_child(es, es->q.head ? 0 : s->o.exec_finish_ms);
	if (es->q.head) {
		uint64_t n = es->q.n;
		ts_sink_queue_clear(&es->q);
		es->wr = NULL;
		s->st.pending -= n;
		ts_sink_drop(s, n, "not read by the command by the end of the run (%s)",
			     es->err[0] ? es->err : "it reads too slowly");
	}
}

static void exec_close(ts_sink *s, int64_t now)
{
	(void)now;
	exec_sink *es = (exec_sink *)s;
	if (es->pid)
		stop_child(es, 0);
	ts_sink_queue_clear(&es->q);
	free(es->cmd);
	free(es);
}

static const ts_sink_ops exec_ops = {"exec", exec_emit, exec_tick, exec_finish, exec_close};

int ts_sink_exec_new(const char *cmd, const ts_sink_opts *o, ts_sink **out, char *errbuf,
		     size_t errlen)
{
	if (!cmd || !*cmd) {
		snprintf(errbuf, errlen, "sink 'exec:': no command");
		return TS_EINVAL;
	}
	exec_sink *es = calloc(1, sizeof *es);
	size_t n = strlen(cmd);
	char *copy = malloc(n + 1);
	if (!es || !copy) {
		free(es);
		free(copy);
		snprintf(errbuf, errlen, "sink 'exec:…': out of memory");
		return TS_ENOMEM;
	}
	memcpy(copy, cmd, n + 1);
	es->cmd = copy;
	es->fd = -1;
	es->base.ops = &exec_ops;
	es->base.o = *o;
	/* the command line may hold a secret: name the program only */
	size_t k = strcspn(cmd, " \t");
	snprintf(es->base.name, sizeof es->base.name, "exec:%.*s%s", (int)(k < 64 ? k : 64), cmd,
		 cmd[k] ? " …" : "");
	ts_sink_backoff_init(&es->bo, o);
	*out = &es->base;
	return 0;
}
