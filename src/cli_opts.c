/* cli_opts.c - the options of `trailsight backfill` and `trailsight
 * stream`: the usage text, parsing into a ts_cli_opts (every value checked
 * against its range, with a message naming the option) and the profile
 * they name. Nothing is opened or run here.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>

#include "cli.h"
#include "lease.h"
#include "order.h"
#include "util.h"

const char ts_cli_usage[] =
	"usage: trailsight backfill [options] PATH...   (PATH: file, folder, -, s3://BUCKET/PREFIX)\n"
	"       trailsight stream (--watch DIR | --stdin | --redis-stream URL#KEY | --sqs QUEUE_URL)\n"
	"              [options]\n"
	"       trailsight detect --store redis://... [--since T] [--until T] [options]\n"
	"       trailsight report --store redis://... --events FILE [options] DIR\n"
	"       trailsight noise --events FILE ID...\n"
	"\n"
	"Reads CloudTrail logs, counts API calls and errors per minute for every\n"
	"eventSource/eventName, learns each API's normal rate, and writes\n"
	"CloudTrail Insights events (ApiCallRateInsight, ApiErrorRateInsight; a\n"
	"Start when unusual activity begins, an End when it stops) to stdout, one\n"
	"JSON object per line, in CloudTrail's own format.\n"
	"\n"
	"backfill reads PATH: a log file, gzipped or not, in any shape CloudTrail\n"
	"records come in ({\"Records\":[...]}, NDJSON, a JSON array, lookup-events\n"
	"output, EventBridge events, CloudWatch Logs subscription messages), a\n"
	"folder (walked recursively, e.g. an S3 sync of AWSLogs/<acct>/CloudTrail/...;\n"
	"files are read by content, whatever their names), or - for standard input;\n"
	"it writes its events sorted by time at the end.\n"
	"\n"
	"backfill s3://BUCKET/PREFIX reads the objects under PREFIX straight from S3\n"
	"(digest and insight objects passed over by key), as a folder is read:\n"
	"  --since TIME, --until TIME  list only the key days (.../CloudTrail/REGION/\n"
	"                          YYYY/MM/DD/) that meet [since, until) (YYYY-MM-DD or\n"
	"                          YYYY-MM-DDTHH:MMZ); every record of those objects counts\n"
	"  --account IDS, --region NAMES  only these accounts and Regions (comma lists):\n"
	"                          their ACCT/CloudTrail/REGION/ folders alone are listed\n"
	"  --endpoint-url URL      an S3-compatible endpoint, addressed path-style (also\n"
	"                          AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL)\n"
	"  --s3-connections N      objects fetched at once (1-64, default 8)\n"
	"  Credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (AWS_SESSION_TOKEN), else\n"
	"  a web identity token (AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_ARN) through STS, else\n"
	"  the AWS_PROFILE profile (default) of ~/.aws/credentials or ~/.aws/config\n"
	"  (AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE), else the container\n"
	"  credentials endpoint (AWS_CONTAINER_CREDENTIALS_*), else EC2 instance\n"
	"  metadata (IMDSv2; AWS_EC2_METADATA_DISABLED=true: not); Region: AWS_REGION,\n"
	"  AWS_DEFAULT_REGION, the profile's region, else us-east-1. Objects counted\n"
	"  are remembered by key and ETag: a rerun on the same store reads nothing twice.\n"
	"\n"
	"detect re-runs detection over the counts a Redis store already holds, with\n"
	"any profile and rules, without reading a log (trailsight detect -h).\n"
	"\n"
	"stream runs until SIGTERM or SIGINT (it then checkpoints and exits 0),\n"
	"writing each event as soon as the checkpoint that made it is stored:\n"
	"  --watch DIR             read the log files under DIR, then every file that\n"
	"                          appears (renamed into place or closed after writing)\n"
	"  --stdin                 read NDJSON records from standard input\n"
	"  --redis-stream URL#KEY  read records (field \"record\") from a Redis Stream\n"
	"                          through a consumer group, acknowledged once counted\n"
	"                          and checkpointed; --group NAME (trailsight),\n"
	"                          --consumer NAME (the host name)\n"
	"  --sqs QUEUE_URL         read the S3 objects that notifications in an SQS queue\n"
	"                          name (S3 event notifications, direct or through SNS;\n"
	"                          CloudTrail's SNS notifications; EventBridge Object\n"
	"                          Created), digests and insight objects passed over by\n"
	"                          key; a message is deleted once its objects are counted\n"
	"                          and checkpointed, one that cannot be processed is\n"
	"                          reported and left for the queue's redrive policy.\n"
	"                          Requests go to AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL,\n"
	"                          else the queue URL's host; objects as for backfill\n"
	"                          s3:// (--endpoint-url, --s3-connections, credentials)\n"
	"  --sqs-visibility SEC    how long a message received stays hidden from other\n"
	"                          readers (default 300); extended every SEC/2 while its\n"
	"                          objects are read\n"
	"  --idle-timeout SEC      with no record for SEC seconds, close the open\n"
	"                          minutes, then advance one minute per minute of\n"
	"                          silence (default 60)\n"
	"  --early-starts          write a Start as soon as the records read make a rise\n"
	"                          of the call or error rate significant, without\n"
	"                          waiting for its minutes to close (drops and Ends\n"
	"                          still wait)\n"
	"  --metrics-file PATH     write Prometheus text metrics to PATH (atomically)\n"
	"  --metrics-interval SEC  how often (default 5)\n"
	"\n"
	"options:\n"
	"  --store SPEC            mem (default), redis://[user:pass@]host:port[/db] or\n"
	"                          redis-cluster://[user:pass@]host:port[,host:port...]\n"
	"  --model NAME|PATH       sensitivity profile (default: default), see models/\n"
	"  --models-dir DIR        where profiles by NAME are found\n"
	"  --rules PATH            suppression rules (see models/README.md): records\n"
	"                          counted apart, series not judged, insights marked\n"
	"  --marked-out PATH       append the events of series a mark rule holds (NDJSON)\n"
	"  --out SINK              where insights go (repeatable; default -):\n"
	"                            -                      NDJSON on stdout\n"
	"                            dir:PATH               CloudTrail-Insight files (S3 layout),\n"
	"                                                   AWS's keys only; dir:PATH?context=1\n"
	"                                                   keeps trailsightContext\n"
	"                            redis-stream:URL#KEY   XADD to a Redis Stream\n"
	"                            webhook:URL            HTTP POST per event, spooled on failure\n"
	"                            alertmanager:URL       Alertmanager v2 alerts (firing, resolved)\n"
	"                            pagerduty:KEY[@URL]    PagerDuty Events v2 trigger and resolve\n"
	"                            slack:URL              Slack-compatible {\"text\": ...}\n"
	"                            eventbridge:URL        EventBridge envelope of an AWS Insight\n"
	"                            exec:CMD               NDJSON to /bin/sh -c CMD, restarted\n"
	"  --alert-repost SEC      alertmanager: re-post firing alerts every SEC seconds\n"
	"                          (default 60; keep it under Alertmanager's resolve_timeout)\n"
	"  --spool-dir DIR         where webhook events wait for a retry\n"
	"                          (default $STATE_DIRECTORY or ~/.local/state/trailsight/spool)\n"
	"  --sink-queue N          events a sink holds in memory while its destination or\n"
	"                          its disk fails (default 10000; past it they are dropped)\n"
	"  --stats FILE            write a JSON summary of the run to FILE\n"
	"  --lateness MIN          minutes a record may arrive after newer ones (0-112, default 20)\n"
	"  --order MODE            backfill: auto (default): records held until they prove\n"
	"                          to be in time order; any: all held, then put in time\n"
	"                          order (memory: 40 bytes a count); time: as they come\n"
	"  --future-minutes MIN    skip as future_time a record more than MIN minutes ahead\n"
	"                          of every other of its partition (default 60; 0: off)\n"
	"  --include-read-only     count read-only calls in the call rate too\n"
	"  --include-data-events   count data events, as their own series (reads\n"
	"                          too in their call rate, as AWS does)\n"
	"  --max-record BYTES      largest record accepted (default 1048576)\n"
	"  --format SHAPE          read every input as this shape only: records, ndjson,\n"
	"                          array, lookup-events, eventbridge, cwlogs (default\n"
	"                          auto: each input by its content)\n"
	"  --inflate MODE          fast (default): gzip files up to 64 MiB decoded whole\n"
	"                          with libdeflate; zlib: every input streamed through\n"
	"                          zlib. Both give the same records, skips and offsets\n"
	"  --force                 read files the store has as already counted, and count\n"
	"                          them again\n"
	"  --max-series N          series (APIs) in all (default 4000000); records of\n"
	"                          new series past a cap are counted as overflow by\n"
	"                          account, Region and eventSource, never in a series\n"
	"  --max-series-per-partition N  series per account and Region (default 5000)\n"
	"  --max-error-codes N     errorCodes per series (default 50)\n"
	"  --max-attr-values N     attribution values per series, kind and hour\n"
	"                          (default 1000)\n"
	"  --group NAME            backfill, stream --watch: work as one worker of the\n"
	"                          group NAME over a Redis store: partitions (account,\n"
	"                          Region) are claimed with leases and each is read,\n"
	"                          counted and judged by the worker holding its lease;\n"
	"                          a lapsed lease is taken over (with --redis-stream,\n"
	"                          --group names the consumer group instead)\n"
	"  --lease-ms MS           --group: lease time, renewed every third of it\n"
	"                          (default 30000)\n"
	"  --checkpoint-cells N    Redis store: checkpoint (write counts, state and files\n"
	"                          done) once N counts are buffered (default 250000;\n"
	"                          stream also checkpoints each second it has news)\n"
	"  --threads N             backfill: files read and parsed in parallel (default:\n"
	"                          the number of cores); results do not depend on it\n"
	"  --report DIR            backfill: write a static HTML report of the run's\n"
	"                          insights into DIR at the end (trailsight report -h)\n"
	"  --strict                exit 3 if any input was skipped (ignored ones, such as\n"
	"                          insight events and digests, are not skips)\n"
	"  --no-trailsight-context leave out insightDetails.trailsightContext\n"
	"  -q, --quiet             no summary, no warnings\n"
	"  -v, --verbose           more messages\n"
	"  -h, --help              this text\n"
	"  --version               the version\n"
	"\n"
	"Insights go to stdout; progress (on a terminal), warnings and the summary to\n"
	"stderr. Exit status: 0 done, 1 bad usage or configuration, 2 the store or\n"
	"the run failed, 3 inputs were skipped under --strict.\n";

const char ts_cli_detect_usage[] =
	"usage: trailsight detect --store redis://[user:pass@]host:port[/db] [options]\n"
	"       trailsight detect --store redis-cluster://host:port[,host:port...] [options]\n"
	"\n"
	"Re-runs detection over the counts already in a Redis store, as the backfill\n"
	"or stream that filled it counted them, without reading a log: every series\n"
	"of every partition the store has a saved state for is replayed minute by\n"
	"minute from its first counted minute, with the profile and rules given\n"
	"here, and the events of the episodes that start in [--since, --until) are\n"
	"written, sorted by time, as a backfill writes them. For the backfill's own\n"
	"profile, rules and lateness they are the backfill's events, byte for byte.\n"
	"Nothing is written to the store.\n"
	"\n"
	"options:\n"
	"  --store SPEC            the Redis store (also TRAILSIGHT_STORE); required\n"
	"  --since TIME            write the episodes that start at or after TIME\n"
	"                          (YYYY-MM-DD or YYYY-MM-DDTHH:MMZ, UTC)\n"
	"  --until TIME            replay the minutes before TIME only\n"
	"  --model NAME|PATH       sensitivity profile (default: default), see models/\n"
	"  --models-dir DIR        where profiles by NAME are found\n"
	"  --rules PATH            suppression rules: unjudged and mark rules act as in a\n"
	"                          backfill; drop rules act on records, which detect\n"
	"                          does not read (what they dropped is in no count)\n"
	"  --marked-out PATH       append the events of series a mark rule holds (NDJSON)\n"
	"  --lateness MIN          as the backfill's (0-112, default 20): it sets when a\n"
	"                          Start was decided (trailsightContext)\n"
	"  --out SINK              where insights go (repeatable; default -), as for\n"
	"                          backfill (trailsight --help)\n"
	"  --alert-repost SEC, --spool-dir DIR, --sink-queue N   as for backfill\n"
	"  --no-trailsight-context leave out insightDetails.trailsightContext\n"
	"  -q, --quiet             no summary\n"
	"  -v, --verbose           more messages\n"
	"  -h, --help              this text\n"
	"\n"
	"The summary on stderr says how many partitions, series and minutes were\n"
	"replayed. Exit status: 0 done, 1 bad usage (no Redis store given), 2 the\n"
	"store or the run failed.\n";

/* 0 and *out when s is a whole decimal number in [lo, hi]; else -1. */
static int parse_long(const char *s, long lo, long hi, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

void ts_cli_opts_free(ts_cli_opts *o)
{
	ts_overrides_free(&o->overrides);
	ts_rules_free(o->rules);
	o->rules = NULL;
	o->eo.rules = NULL;
}

const char *ts_cli_models_dir(const char *opt)
{
	static char buf[PATH_MAX];
	if (opt)
		return opt;
	const char *env = getenv("TRAILSIGHT_MODELS");
	if (env && *env)
		return env;
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		static const char *rel[] = {"/../models", "/../../models", "/../share/trailsight/models"};
		for (size_t i = 0; i < TS_ARRAY_LEN(rel); i++) {
			snprintf(buf, sizeof buf, "%s%s", exe, rel[i]);
			if (access(buf, R_OK) == 0)
				return buf;
		}
	}
	return "models";
}

int ts_cli_parse(int argc, char **argv, int mode, ts_cli_opts *o)
{
	int stream = mode == TS_CLI_STREAM, detect = mode == TS_CLI_DETECT;
	enum {
		O_STORE = 256, O_MODEL, O_MODELS_DIR, O_OUT, O_STATS, O_LATENESS, O_READ, O_DATA,
		O_MAXREC, O_THREADS, O_STRICT, O_NOCTX, O_REPOST, O_VERSION, O_FORCE, O_FLUSH, O_SPOOL,
		O_WATCH, O_STDIN, O_IDLE, O_METRICS, O_METRICS_INT, O_RSTREAM, O_GROUP, O_CONSUMER,
		O_INFLATE, O_REPORT, O_SINKQ, O_MAX_SERIES, O_MAX_PART, O_MAX_CODES, O_MAX_ATTRS,
		O_ORDER, O_FUTURE, O_FORMAT, O_RULES, O_MARKED, O_EARLY, O_SINCE, O_UNTIL, O_LEASE_MS,
		O_ENDPOINT, O_S3CONN, O_ACCOUNT, O_REGION, O_SQS, O_SQS_VIS
	};
	static const struct option longopts[] = {
		{"store", required_argument, 0, O_STORE},
		{"model", required_argument, 0, O_MODEL},
		{"models-dir", required_argument, 0, O_MODELS_DIR},
		{"rules", required_argument, 0, O_RULES},
		{"marked-out", required_argument, 0, O_MARKED},
		{"out", required_argument, 0, O_OUT},
		{"spool-dir", required_argument, 0, O_SPOOL},
		{"sink-queue", required_argument, 0, O_SINKQ},
		{"alert-repost", required_argument, 0, O_REPOST},
		{"stats", required_argument, 0, O_STATS},
		{"lateness", required_argument, 0, O_LATENESS},
		{"order", required_argument, 0, O_ORDER},
		{"future-minutes", required_argument, 0, O_FUTURE},
		{"include-read-only", no_argument, 0, O_READ},
		{"include-data-events", no_argument, 0, O_DATA},
		{"max-record", required_argument, 0, O_MAXREC},
		{"threads", required_argument, 0, O_THREADS},
		{"inflate", required_argument, 0, O_INFLATE},
		{"format", required_argument, 0, O_FORMAT},
		{"strict", no_argument, 0, O_STRICT},
		{"force", no_argument, 0, O_FORCE},
		{"checkpoint-cells", required_argument, 0, O_FLUSH},
		{"max-series", required_argument, 0, O_MAX_SERIES},
		{"max-series-per-partition", required_argument, 0, O_MAX_PART},
		{"max-error-codes", required_argument, 0, O_MAX_CODES},
		{"max-attr-values", required_argument, 0, O_MAX_ATTRS},
		{"watch", required_argument, 0, O_WATCH},
		{"stdin", no_argument, 0, O_STDIN},
		{"redis-stream", required_argument, 0, O_RSTREAM},
		{"sqs", required_argument, 0, O_SQS},
		{"sqs-visibility", required_argument, 0, O_SQS_VIS},
		{"group", required_argument, 0, O_GROUP},
		{"lease-ms", required_argument, 0, O_LEASE_MS},
		{"consumer", required_argument, 0, O_CONSUMER},
		{"idle-timeout", required_argument, 0, O_IDLE},
		{"early-starts", no_argument, 0, O_EARLY},
		{"metrics-file", required_argument, 0, O_METRICS},
		{"metrics-interval", required_argument, 0, O_METRICS_INT},
		{"no-trailsight-context", no_argument, 0, O_NOCTX},
		{"report", required_argument, 0, O_REPORT},
		{"since", required_argument, 0, O_SINCE},
		{"endpoint-url", required_argument, 0, O_ENDPOINT},
		{"s3-connections", required_argument, 0, O_S3CONN},
		{"account", required_argument, 0, O_ACCOUNT},
		{"region", required_argument, 0, O_REGION},
		{"until", required_argument, 0, O_UNTIL},
		{"quiet", no_argument, 0, 'q'},
		{"verbose", no_argument, 0, 'v'},
		{"help", no_argument, 0, 'h'},
		{"version", no_argument, 0, O_VERSION},
		{0, 0, 0, 0},
	};
	int c;
	long v;
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	int order_set = 0, stream_only, backfill_only = 0, group_given = 0, s3_given = 0;
	const char *record_opt = NULL; /* an option that acts on records (not detect's) */
	memset(o, 0, sizeof *o);
	o->since = INT64_MIN;
	o->until = INT64_MAX;
	o->store_spec = getenv("TRAILSIGHT_STORE");
	o->model = "default";
	o->threads = ncpu > 0 ? (int)(ncpu > 64 ? 64 : ncpu) : 1;
	ts_engine_opts_defaults(&o->eo);
	o->sc = (ts_stream_cfg){.idle_timeout = 60, .metrics_interval = 5, .group = "trailsight"};

	optind = 1;
	int li = -1;
	while ((c = getopt_long(argc, argv, "qvh", longopts, &li)) != -1) {
		static const int on_records[] = {
			O_STATS, O_ORDER, O_FUTURE, O_READ, O_DATA, O_MAXREC, O_FORMAT, O_INFLATE,
			O_THREADS, O_STRICT, O_FORCE, O_FLUSH, O_MAX_SERIES, O_MAX_PART, O_MAX_CODES,
			O_MAX_ATTRS, O_REPORT, O_WATCH, O_STDIN, O_RSTREAM, O_GROUP, O_CONSUMER,
			O_IDLE, O_EARLY, O_METRICS, O_METRICS_INT, O_LEASE_MS, O_ENDPOINT, O_S3CONN, O_ACCOUNT, O_REGION,
			O_SQS, O_SQS_VIS};
		for (size_t i = 0; i < TS_ARRAY_LEN(on_records) && li >= 0; i++)
			if (c == on_records[i] && !record_opt)
				record_opt = longopts[li].name;
		li = -1;
		switch (c) {
		case O_SINCE:
		case O_UNTIL:
			if (mode == TS_CLI_STREAM) {
				ts_error("--%s is for detect and backfill s3://", c == O_SINCE ? "since" : "until");
				return TS_EXIT_USAGE;
			}
			if (ts_parse_minute_arg(optarg, c == O_SINCE ? &o->since : &o->until)) {
				ts_error("--%s '%s': expected YYYY-MM-DD or YYYY-MM-DDTHH:MMZ",
					 c == O_SINCE ? "since" : "until", optarg);
				return TS_EXIT_USAGE;
			}
			break;
		case O_STORE: o->store_spec = optarg; break;
		case O_MODEL: o->model = optarg; break;
		case O_MODELS_DIR: o->models_dir = optarg; break;
		case O_RULES: o->rules_path = optarg; break;
		case O_MARKED: o->marked_out = optarg; break;
		case O_OUT:
			if (o->nouts == TS_ARRAY_LEN(o->outs)) {
				ts_error("--out: at most %zu sinks", TS_ARRAY_LEN(o->outs));
				return TS_EXIT_USAGE;
			}
			o->outs[o->nouts++] = optarg;
			break;
		case O_SPOOL: o->spool_dir = optarg; break;
		case O_STATS: o->stats_path = optarg; break;
		case O_LATENESS:
			if (parse_long(optarg, 0, 120 - 8, &v)) {
				ts_error("--lateness '%s': expected minutes from 0 to %d", optarg, 120 - 8);
				return TS_EXIT_USAGE;
			}
			o->eo.lateness = (int)v;
			break;
		case O_ORDER:
			if ((o->eo.order = ts_order_mode_parse(optarg)) < 0) {
				ts_error("--order '%s': expected auto, any or time", optarg);
				return TS_EXIT_USAGE;
			}
			backfill_only = 1;
			order_set = 1;
			break;
		case O_FUTURE:
			if (parse_long(optarg, 0, 1000000, &v)) {
				ts_error("--future-minutes '%s': expected minutes from 0 to 1000000", optarg);
				return TS_EXIT_USAGE;
			}
			o->eo.future_minutes = (int)v;
			break;
		case O_READ: o->eo.include_read_only = 1; break;
		case O_DATA: o->eo.include_data = 1; break;
		case O_MAXREC:
			if (parse_long(optarg, 1024, 64L << 20, &v)) {
				ts_error("--max-record '%s': expected bytes from 1024 to 67108864", optarg);
				return TS_EXIT_USAGE;
			}
			o->ro.max_record = (size_t)v;
			break;
		case O_FORMAT: {
			static const char *const names[TS_FMT_COUNT] = {
				"auto", "records", "ndjson", "array", "lookup-events", "eventbridge",
				"cwlogs"};
			int f = -1;
			for (int i = 0; i < TS_FMT_COUNT; i++)
				if (strcmp(optarg, names[i]) == 0)
					f = i;
			if (f < 0) {
				ts_error("--format '%s': expected auto, records, ndjson, array, "
					 "lookup-events, eventbridge or cwlogs", optarg);
				return TS_EXIT_USAGE;
			}
			o->ro.format = f;
			break;
		}
		case O_INFLATE:
			if (strcmp(optarg, "fast") != 0 && strcmp(optarg, "zlib") != 0) {
				ts_error("--inflate '%s': expected fast or zlib", optarg);
				return TS_EXIT_USAGE;
			}
			o->ro.stream_only = strcmp(optarg, "zlib") == 0;
			break;
		case O_THREADS:
			backfill_only = 1;
			if (parse_long(optarg, 1, 256, &v)) {
				ts_error("--threads '%s': expected 1 to 256", optarg);
				return TS_EXIT_USAGE;
			}
			o->threads = (int)v;
			break;
		case O_STRICT: o->strict = 1; break;
		case O_FORCE: o->eo.force = 1; break;
		case O_WATCH: o->sc.watch_dir = optarg; break;
		case O_STDIN: o->sc.use_stdin = 1; break;
		case O_RSTREAM: o->sc.redis_stream = optarg; break;
		case O_GROUP: o->sc.group = optarg; group_given = 1; break;
		case O_LEASE_MS:
			if (parse_long(optarg, TS_LEASE_MS_MIN, TS_LEASE_MS_MAX, &v)) {
				ts_error("--lease-ms '%s': expected %d to %d milliseconds", optarg,
					 TS_LEASE_MS_MIN, TS_LEASE_MS_MAX);
				return TS_EXIT_USAGE;
			}
			o->lease_ms = (int)v;
			break;
		case O_CONSUMER: o->sc.consumer = optarg; break;
		case O_METRICS: o->sc.metrics_file = optarg; break;
		case O_IDLE:
		case O_METRICS_INT:
			if (parse_long(optarg, 1, 86400, &v)) {
				ts_error("--%s '%s': expected seconds from 1 to 86400",
					 c == O_IDLE ? "idle-timeout" : "metrics-interval", optarg);
				return TS_EXIT_USAGE;
			}
			*(c == O_IDLE ? &o->sc.idle_timeout : &o->sc.metrics_interval) = (int)v;
			break;
		case O_FLUSH:
			if (parse_long(optarg, 1, 100000000, &v)) {
				ts_error("--checkpoint-cells '%s': expected 1 to 100000000", optarg);
				return TS_EXIT_USAGE;
			}
			o->flush_cells = (size_t)v;
			break;
		case O_REPOST:
			if (parse_long(optarg, 1, 86400, &v)) {
				ts_error("--alert-repost '%s': expected 1 to 86400 seconds", optarg);
				return TS_EXIT_USAGE;
			}
			o->alert_repost_s = (int)v;
			break;
		case O_SINKQ:
			if (parse_long(optarg, 1, 10000000, &v)) {
				ts_error("--sink-queue '%s': expected 1 to 10000000", optarg);
				return TS_EXIT_USAGE;
			}
			o->sink_queue = (size_t)v;
			break;
		case O_MAX_SERIES:
		case O_MAX_PART:
		case O_MAX_CODES:
		case O_MAX_ATTRS: {
			static const char *const names[] = {"max-series", "max-series-per-partition",
							    "max-error-codes", "max-attr-values"};
			int which = c - O_MAX_SERIES;
			if (parse_long(optarg, 1, 100000000, &v)) {
				ts_error("--%s '%s': expected 1 to 100000000", names[which], optarg);
				return TS_EXIT_USAGE;
			}
			uint32_t *dst[] = {&o->caps.max_apis, &o->caps.max_apis_per_partition,
					   &o->caps.max_codes_per_api, &o->eo.max_attr_values};
			*dst[which] = (uint32_t)v;
			break;
		}
		case O_NOCTX: o->eo.trailsight_context = 0; break;
		case O_EARLY: o->eo.early = 1; break;
		case O_REPORT: o->report_dir = optarg; backfill_only = 1; break;
		case O_ENDPOINT: o->endpoint_url = optarg; s3_given = 1; break;
		case O_SQS: o->sc.sqs_url = optarg; break;
		case O_SQS_VIS:
			if (parse_long(optarg, 2, 43200, &v)) {
				ts_error("--sqs-visibility '%s': expected 2 to 43200 seconds", optarg);
				return TS_EXIT_USAGE;
			}
			o->sc.sqs_visibility = (int)v;
			break;
		case O_ACCOUNT:
		case O_REGION: {
			int acct = c == O_ACCOUNT;
			for (const char *p = optarg; *p; p++) {
				int ok = *p == ',' || (*p >= '0' && *p <= '9') ||
					 (!acct && ((*p >= 'a' && *p <= 'z') || *p == '-'));
				if (!ok) {
					ts_error("--%s '%s': expected %s, separated by commas",
						 acct ? "account" : "region", optarg,
						 acct ? "account ids (12 digits)" : "Region names (us-east-1)");
					return TS_EXIT_USAGE;
				}
			}
			*(acct ? &o->s3_accounts : &o->s3_regions) = optarg;
			backfill_only = 1;
			break;
		}
		case O_S3CONN:
			if (parse_long(optarg, 1, 64, &v)) {
				ts_error("--s3-connections '%s': expected 1 to 64", optarg);
				return TS_EXIT_USAGE;
			}
			o->s3_connections = (int)v;
			s3_given = 1;
			break;
		case 'q': o->quiet = 1; ts_log_level = 0; break;
		case 'v': ts_log_level = 3; break;
		case 'h': fputs(detect ? ts_cli_detect_usage : ts_cli_usage, stdout); return TS_EXIT_OK;
		case O_VERSION: printf("trailsight %s\n", TS_VERSION); return TS_EXIT_OK;
		default:
			fputs(detect ? ts_cli_detect_usage : ts_cli_usage, stderr);
			return TS_EXIT_USAGE;
		}
	}
	stream_only = o->sc.watch_dir || o->sc.use_stdin || o->sc.metrics_file || o->sc.redis_stream ||
		      o->sc.sqs_url || o->sc.sqs_visibility || o->eo.early;
	if (detect) {
		if (record_opt || optind < argc) {
			if (record_opt)
				ts_error("detect: --%s is for backfill or stream (it acts on records, "
					 "their reading or the run's files); detect reads the counts a "
					 "store holds", record_opt);
			else
				ts_error("detect: no PATH arguments: it reads the store given by --store");
			return TS_EXIT_USAGE;
		}
		if (!o->store_spec || (strncmp(o->store_spec, "redis://", 8) != 0 &&
				       strncmp(o->store_spec, "redis-cluster://", 16) != 0)) {
			ts_error("detect: needs a Redis store: --store redis://host:port[/db] or "
				 "redis-cluster://host:port[,host:port...] (or TRAILSIGHT_STORE), the "
				 "one a backfill or stream counted into; the memory store lives only "
				 "within a run");
			return TS_EXIT_USAGE;
		}
		if (o->since != INT64_MIN && o->until != INT64_MAX && o->until <= o->since) {
			ts_error("detect: --until must come after --since");
			return TS_EXIT_USAGE;
		}
	} else if (stream) {
		if (backfill_only || optind < argc) {
			ts_error("stream: %s", optind < argc ? "no PATH arguments: use --watch DIR or --stdin"
							     : "--threads and --report are for backfill");
			return TS_EXIT_USAGE;
		}
		if (!!o->sc.watch_dir + !!o->sc.use_stdin + !!o->sc.redis_stream + !!o->sc.sqs_url != 1) {
			ts_error("stream: give one of --watch DIR, --stdin, --redis-stream URL#KEY or "
				 "--sqs QUEUE_URL");
			fputs(ts_cli_usage, stderr);
			return TS_EXIT_USAGE;
		}
		if (!o->sc.sqs_url && (s3_given || o->sc.sqs_visibility)) {
			ts_error("stream: --endpoint-url, --s3-connections and --sqs-visibility are for "
				 "--sqs");
			return TS_EXIT_USAGE;
		}
		if (o->sc.sqs_url && group_given) {
			ts_error("stream --sqs: --group divides a watched folder's partitions; the "
				 "queue gives each message to one reader");
			return TS_EXIT_USAGE;
		}
		o->sc.endpoint_url = o->endpoint_url;
		o->sc.s3_connections = o->s3_connections;
		o->eo.sorted = 0;
	} else {
		if (stream_only) {
			ts_error("backfill: --watch, --stdin, --redis-stream, --sqs, --sqs-visibility, "
				 "--metrics-file and --early-starts are for stream");
			return TS_EXIT_USAGE;
		}
		if (optind >= argc) {
			ts_error("backfill: no PATH given (a file, a folder, s3://BUCKET/PREFIX, or - "
				 "for stdin)");
			fputs(ts_cli_usage, stderr);
			return TS_EXIT_USAGE;
		}
		int s3 = 0;
		for (int i = optind; i < argc; i++)
			s3 += ts_cli_is_s3(argv[i]);
		if (s3 && s3 != argc - optind) {
			ts_error("backfill: s3:// paths and local paths cannot be mixed in one run");
			return TS_EXIT_USAGE;
		}
		if (!s3 && (o->since != INT64_MIN || o->until != INT64_MAX || o->endpoint_url ||
			    o->s3_connections || o->s3_accounts || o->s3_regions)) {
			ts_error("backfill: --since, --until, --account, --region, --endpoint-url and "
				 "--s3-connections are for s3:// paths");
			return TS_EXIT_USAGE;
		}
		if (s3 && group_given) {
			ts_error("backfill: --group reads local folders; s3:// paths are read by one "
				 "worker");
			return TS_EXIT_USAGE;
		}
		if (o->since != INT64_MIN && o->until != INT64_MAX && o->until <= o->since) {
			ts_error("backfill: --until must come after --since");
			return TS_EXIT_USAGE;
		}
	}

	char err[512];
	if (!detect && group_given && !o->sc.redis_stream) { /* leases */
		if (stream && o->sc.use_stdin) {
			ts_error("stream --stdin: --group needs files under "
				 "AWSLogs/<acct>/CloudTrail/<region>/ to divide (--watch DIR)");
			return TS_EXIT_USAGE;
		}
		if (o->report_dir) {
			ts_error("backfill: --report and --group: each worker sees only its own "
				 "partitions; run trailsight report over the store afterwards");
			return TS_EXIT_USAGE;
		}
		if (ts_lease_group_check(o->sc.group, err, sizeof err)) {
			ts_error("%s", err);
			return TS_EXIT_USAGE;
		}
		o->lease_group = o->sc.group;
	}
	if (o->lease_ms && !o->lease_group) {
		ts_error("--lease-ms is for --group (backfill, stream --watch)");
		return TS_EXIT_USAGE;
	}
	if (!o->lease_ms)
		o->lease_ms = TS_LEASE_MS_DEFAULT;
	const char *mdir = ts_cli_models_dir(o->models_dir);
	int rc = ts_profile_load_scoped(o->model, mdir, &o->eo.profile, &o->overrides, err,
					sizeof err);
	if (rc == TS_EIO && strcmp(o->model, "default") == 0 && !o->models_dir) {
		ts_profile_defaults(&o->eo.profile); /* built-in default */
	} else if (rc) {
		ts_error("%s", err);
		return TS_EXIT_USAGE;
	}
	o->eo.overrides = &o->overrides;
	if (o->rules_path) {
		if ((rc = ts_rules_load(o->rules_path, &o->rules, err, sizeof err))) {
			ts_error("%s", rc == TS_ENOMEM ? "out of memory" : err);
			return TS_EXIT_USAGE;
		}
		o->eo.rules = o->rules;
	}
	if (mode == TS_CLI_BACKFILL && !order_set)
		o->eo.order = TS_ORDER_AUTO;
	if (detect)
		o->eo.since = o->since == INT64_MIN ? 0 : o->since;
	o->paths = argv + optind;
	o->npaths = (size_t)(argc - optind);
	return -1;
}
