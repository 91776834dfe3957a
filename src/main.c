/* main.c - the trailsight command line: picks the command and hands over
 * to its module (cli_opts.c parses, run.c runs, run_detect.c re-detects,
 * report_cli.c draws a report, noise.c a rule for a noisy insight). The
 * only file that exits the process.
 */
#include <gsl/gsl_errno.h>
#include <stdlib.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "cli.h"
#include "noise.h"
#include "report_cli.h"

int main(int argc, char **argv)
{
	gsl_set_error_handler_off();
#ifdef __GLIBC__
	/* Blocks of 128 KiB and more (checkpoint chunks, hash tables) mapped
	 * and given back whole when freed. By default glibc raises this
	 * threshold to the largest block freed so far, and the tables a run
	 * makes again and again then come from the heap, where the freed ones
	 * leave holes: 21 MB more peak memory on bench/orgscale.sh's corpus.
	 * The environment's MALLOC_MMAP_THRESHOLD_ still wins. */
	if (!getenv("MALLOC_MMAP_THRESHOLD_"))
		mallopt(M_MMAP_THRESHOLD, 128 * 1024);
#endif
	if (argc < 2) {
		fputs(ts_cli_usage, stderr);
		return TS_EXIT_USAGE;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(ts_cli_usage, stdout);
		return TS_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("trailsight %s\n", TS_VERSION);
		return TS_EXIT_OK;
	}
	int stream = strcmp(argv[1], "stream") == 0;
	if (stream || strcmp(argv[1], "backfill") == 0) {
		ts_cli_opts o;
		int rc = ts_cli_parse(argc - 1, argv + 1, stream, &o);
		if (rc < 0)
			rc = ts_cli_run(&o, stream);
		ts_cli_opts_free(&o);
		return rc;
	}
	if (strcmp(argv[1], "detect") == 0) {
		ts_cli_opts o;
		int rc = ts_cli_parse(argc - 1, argv + 1, TS_CLI_DETECT, &o);
		if (rc < 0)
			rc = ts_cli_detect(&o);
		ts_cli_opts_free(&o);
		return rc;
	}
	if (strcmp(argv[1], "report") == 0)
		return ts_report_cli(argc - 1, argv + 1, ts_cli_models_dir(NULL));
	if (strcmp(argv[1], "noise") == 0)
		return ts_noise_cli(argc - 1, argv + 1);
	ts_error("unknown command '%s'", argv[1]);
	fputs(ts_cli_usage, stderr);
	return TS_EXIT_USAGE;
}
