/* report_cli.h - the `trailsight report` command line (report_cli.c). */
#ifndef TS_REPORT_CLI_H
#define TS_REPORT_CLI_H

/* Run `trailsight report` with argv[0] = "report". models_dir: where
 * profiles by name are found. Returns the exit status: 0 done, 1 bad
 * usage or an unreadable events file, 2 the store or the writing failed. */
int ts_report_cli(int argc, char **argv, const char *models_dir);

#endif
