/* report_cli.c - the `trailsight report` command: options, the store, the
 * events file(s), and ts_report_write (report.h). Kept out of main.c so the
 * command line of the run commands and this one change apart. The list of
 * insights comes from the events a run wrote (--events, NDJSON as the `-`
 * sink writes it); every count drawn comes from the store.
 */
#include <getopt.h>
#include <stdlib.h>

#include "redis_cluster.h"
#include "redis_conn.h"
#include "report.h"
#include "report_cli.h"

static const char usage[] =
	"usage: trailsight report --store redis://... --events FILE [--events FILE...]\n"
	"                         [--since TIME] [--until TIME] [--model NAME|PATH]\n"
	"                         [--models-dir DIR] DIR\n"
	"\n"
	"Writes a static HTML report into DIR: index.html lists the insights of the\n"
	"events files (NDJSON, as a run writes them) whose Start is in [--since,\n"
	"--until), newest first, with pages filtered by account, Region and type;\n"
	"DIR/i/<sharedEventID>.html shows one insight: its series per minute from the\n"
	"store, the expected rate and its 1-99 %% band under the profile, the Start and\n"
	"End, the same minutes a week before, the attributions and the events.\n"
	"TIME is YYYY-MM-DD, YYYY-MM-DDTHH:MMZ or YYYY-MM-DDTHH:MM:SSZ (UTC).\n"
	"A backfill on the memory store writes the same report with --report DIR.\n";

/* TIME as epoch minutes. 0 or -1. */
int ts_report_cli(int argc, char **argv, const char *models_dir)
{
	enum { O_STORE = 256, O_EVENTS, O_SINCE, O_UNTIL, O_MODEL, O_MODELS_DIR };
	static const struct option longopts[] = {
		{"store", required_argument, 0, O_STORE},
		{"events", required_argument, 0, O_EVENTS},
		{"since", required_argument, 0, O_SINCE},
		{"until", required_argument, 0, O_UNTIL},
		{"model", required_argument, 0, O_MODEL},
		{"models-dir", required_argument, 0, O_MODELS_DIR},
		{"quiet", no_argument, 0, 'q'},
		{"help", no_argument, 0, 'h'},
		{0, 0, 0, 0},
	};
	const char *store_spec = getenv("TRAILSIGHT_STORE"), *model = "default";
	const char *events[16];
	size_t nevents = 0;
	int quiet = 0, c;
	ts_report_opts ro = {.since = INT64_MIN, .until = INT64_MAX};
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case O_STORE: store_spec = optarg; break;
		case O_EVENTS:
			if (nevents == TS_ARRAY_LEN(events)) {
				ts_error("report: at most %zu --events files", TS_ARRAY_LEN(events));
				return 1;
			}
			events[nevents++] = optarg;
			break;
		case O_SINCE:
		case O_UNTIL:
			if (ts_parse_minute_arg(optarg, c == O_SINCE ? &ro.since : &ro.until)) {
				ts_error("report: --%s '%s': expected YYYY-MM-DD or YYYY-MM-DDTHH:MMZ",
					 c == O_SINCE ? "since" : "until", optarg);
				return 1;
			}
			break;
		case O_MODEL: model = optarg; break;
		case O_MODELS_DIR: models_dir = optarg; break;
		case 'q': quiet = 1; ts_log_level = 0; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 1;
		}
	}
	if (optind != argc - 1 || !nevents) {
		ts_error("report: %s", optind != argc - 1 ? "give one output folder DIR"
							  : "give the events of a run with --events FILE");
		fputs(usage, stderr);
		return 1;
	}
	int cluster = store_spec && strncmp(store_spec, "redis-cluster://", 16) == 0;
	if (!store_spec || (!cluster && strncmp(store_spec, "redis://", 8) != 0)) {
		ts_error("report: --store must name a Redis store (redis://host:port[/db] or "
			 "redis-cluster://host:port[,host:port...]); the "
			 "memory store lives only within a run: use backfill --report DIR");
		return 1;
	}
	char err[1024];
	int rc = ts_profile_load(model, models_dir, &ro.profile, err, sizeof err);
	if (rc == TS_EIO && strcmp(model, "default") == 0)
		ts_profile_defaults(&ro.profile);
	else if (rc) {
		ts_error("%s", err);
		return 1;
	}
	char source[300];
	ts_redis_spec sp;
	ts_rcluster_spec csp;
	const char *why;
	if (cluster) {
		if (ts_rcluster_parse(store_spec, &csp, &why)) {
			ts_error("store '%s': %s (expected "
				 "redis-cluster://[user:pass@]host:port[,host:port...])",
				 store_spec, why);
			return 1;
		}
		snprintf(source, sizeof source, "the Redis Cluster store at %s:%d%s",
			 csp.seed[0].host, csp.seed[0].port, csp.nseeds > 1 ? " (and others)" : "");
		memset(&csp, 0, sizeof csp);
	} else if (ts_redis_parse(store_spec, &sp, &why)) {
		ts_error("store '%s': %s (expected redis://[user:pass@]host:port[/db])", store_spec,
			 why);
		return 1;
	} else {
		snprintf(source, sizeof source, "the Redis store at %s:%d db %d", sp.host, sp.port,
			 sp.db);
	}
	ro.source = source;

	int code = 2;
	ts_registry *reg = ts_registry_new(NULL);
	ts_report *rep = ts_report_new(&ro);
	ts_store *store = NULL;
	if (!reg || !rep) {
		ts_error("out of memory");
		goto out_free;
	}
	for (size_t i = 0; i < nevents; i++) {
		if ((rc = ts_report_add_file(rep, events[i], err, sizeof err))) {
			ts_error("%s", rc == TS_ENOMEM ? "out of memory" : err);
			code = rc == TS_EIO ? 1 : 2;
			goto out_free;
		}
	}
	ts_store_opts so = {.retention_days = ro.profile.history_days + 2};
	if ((rc = ts_store_open(store_spec, reg, &so, &store, err, sizeof err))) {
		ts_error("%s", err);
		code = rc == TS_EINVAL ? 1 : 2;
		goto out_free;
	}
	ts_report_stats st;
	if ((rc = ts_report_write(rep, argv[optind], reg, store, &st, err, sizeof err))) {
		ts_error("report: %s", err);
		goto out_free;
	}
	if (!quiet)
		fprintf(stderr, "trailsight: report of %zu insights (%zu events, %zu unreadable) "
				"written to %s, %zu pages\n",
			st.insights, st.events, st.bad, argv[optind], st.pages);
	code = 0;
out_free:
	ts_store_free(store);
	ts_report_free(rep);
	ts_registry_free(reg);
	return code;
}
