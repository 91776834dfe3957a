/* nab.c - trailsight's detector on the Numenta Anomaly Benchmark.
 *
 *   nab [--profile FILE] [--labels WINDOWS.json] [--set KEY=VALUE]... DATA_DIR RESULTS_DIR
 *
 * Reads every DATA_DIR/<category>/<name>.csv (timestamp,value), scores each
 * row with the product's own model and detector and writes NAB's results
 * layout, RESULTS_DIR/trailsight/<category>/trailsight_<name>.csv with the
 * columns timestamp,value,anomaly_score,label. The label column (1 inside a
 * labelled window) is NAB's format; it is filled from WINDOWS.json after
 * detection and never seen by the detector. bench/nab.sh builds and runs
 * this, and NAB's own scorer; bench/nab.md describes the whole procedure.
 *
 * This file is only the driver: each series' rows go, one at a time and in
 * order, through src/model.c's real-valued baseline (ts_model_fit_value,
 * refitted every `refit` rows from the rows before) and src/detect.c's
 * Start/End state machine (ts_detector_step_value, with the windows,
 * p_start, p_continue, end_after, cooldown and min_duration of a trailsight
 * profile: --profile, bench/nab.profile). Row i is the detector's "minute"
 * i. A Start scores its row L / (L + 10), L = -log10 of its p-value; every
 * other row scores 0. The score of row i uses rows 0..i only (no file
 * length, no min/max, no labels). Count series (non-negative integers in
 * the first `warmup` rows) are judged on sqrt(x), their stabilised scale.
 * Ownership: a series' arrays belong to run_file; main owns the windows
 * table.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#define JSMN_STATIC
#define JSMN_PARENT_LINKS
#include <jsmn.h>

#include "detect.h"
#include "model.h"
#include "profile.h"
#include "util.h"

#define NAB_MAX_FILE (1024u * 1024 * 1024) /* bytes in one input file */
#define NAB_DETECTOR "trailsight"        /* NAB: no underscore in the name */

/* ------------------------------------------------------------------ */
/* Settings: one for every file. The detector's are a trailsight profile;
 * these are the driver's and the real-valued model's (ts_vopts). */

typedef struct nab_settings {
	ts_profile prof;
	ts_vopts v;
	int refit;       /* rows between fits of the baseline */
	int warmup;      /* rows that decide the scale (counts or not) */
	int sqrt_counts; /* judge count series on the square-root scale */
} nab_settings;

static void nab_defaults(nab_settings *s)
{
	memset(s, 0, sizeof *s);
	ts_profile_defaults(&s->prof);
	ts_vopts_defaults(&s->v);
	s->refit = 25;
	s->warmup = 50;
	s->sqrt_counts = 1;
}

/* Apply "key=value": a driver or model key, else a profile key. 0, or -1
 * for an unknown key or a bad value. */
static int nab_set(nab_settings *s, const char *kv)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv || (size_t)(eq - kv) >= 64)
		return -1;
	char key[64];
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	const char *v = eq + 1;
	struct {
		const char *key;
		double *d;
		int *i;
		double lo, hi;
	} keys[] = {
		{"refit", NULL, &s->refit, 1, 100000},
		{"warmup", NULL, &s->warmup, 1, 100000},
		{"sqrt_counts", NULL, &s->sqrt_counts, 0, 1},
		{"ref", NULL, &s->v.ref, 1, 100000},
		{"warm", NULL, &s->v.warm, 2, 100000},
		{"history", NULL, &s->v.history, 50, 1000000},
		{"tail_frac", &s->v.tail_frac, NULL, 0, 0.3},
		{"tail_min", NULL, &s->v.tail_min, 3, 100000},
		{"day_bins", NULL, &s->v.day_bins, 1, TS_VBINS_MAX},
		{"week_bins", NULL, &s->v.week_bins, 1, TS_VBINS_MAX},
		{"periods", NULL, &s->v.periods, 2, 100},
		{"season_shrink", &s->v.shrink, NULL, 0, 1e6},
		{"margin", &s->v.margin, NULL, -1, 1},
		{"seasons", NULL, &s->v.seasons, 1, 7},
		{"spread_min", NULL, &s->v.spread_min, 0, 100000},
	};
	for (size_t k = 0; k < TS_ARRAY_LEN(keys); k++) {
		if (strcmp(key, keys[k].key) != 0)
			continue;
		double d;
		if (ts_parse_double(v, keys[k].lo, keys[k].hi, &d))
			return -1;
		if (keys[k].i) {
			if (d != floor(d))
				return -1;
			*keys[k].i = (int)d;
		} else {
			*keys[k].d = d;
		}
		return 0;
	}
	return ts_profile_set(&s->prof, key, v) ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* One series through the model and the detector. */

typedef struct nab_series {
	const nab_settings *set;
	size_t n;           /* rows seen */
	int64_t *t;         /* their times (seconds) */
	double *x;          /* their values, on the judged scale once warm */
	float *dev;         /* the deviations the detector was given; NaN: none */
	int counts;         /* 1: a count series, judged on sqrt */
	ts_vbase base;      /* the baseline in force */
	ts_detector det;
	size_t starts;
} nab_series;

/* Feed row i (= s->n; the arrays hold room for it) with time t and value
 * x. *score gets its score. 0 or TS_ENOMEM. */
static int nab_series_step(nab_series *s, int64_t t, double x, double *score)
{
	const nab_settings *set = s->set;
	size_t i = s->n++;
	s->t[i] = t;
	s->x[i] = x;
	s->dev[i] = NAN;
	*score = 0;
	if (s->n < (size_t)set->warmup)
		return 0;
	if (s->n == (size_t)set->warmup) {
		/* the scale, from the warm-up rows */
		s->counts = set->sqrt_counts;
		for (size_t j = 0; j < s->n; j++)
			if (!(s->x[j] >= 0 && s->x[j] == floor(s->x[j])))
				s->counts = 0;
		for (size_t j = 0; s->counts && j < i; j++)
			s->x[j] = sqrt(s->x[j]);
	}
	if (s->counts)
		s->x[i] = copysign(sqrt(fabs(x)), x);
	if ((i - (size_t)set->warmup + 1) % (size_t)set->refit == 0 || !s->base.ok) {
		int rc = ts_model_fit_value(s->t, s->x, s->dev, i, &set->prof, &set->v, &s->base);
		if (rc)
			return rc;
	}
	ts_det_obs o = {.q = -1};
	if (s->base.ok) {
		double e = ts_vbase_expect(&s->base, t);
		s->dev[i] = (float)(s->x[i] - e);
		o.lam = (float)e;
		o.dev = s->dev[i];
		o.q = 0;
	}
	ts_det_event ev;
	if (ts_detector_step_value(&s->det, &set->prof, (int64_t)i, &o, s->base.null, &ev) ==
	    TS_DET_START) {
		double l = -log10(fmax(ev.p_value, 1e-300));
		*score = l / (l + 10);
		s->starts++;
	}
	return 0;
}


/* ------------------------------------------------------------------ */
/* NAB files. */

static void nab_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void nab_err(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* Read a whole file into a NUL-terminated buffer. 0, TS_EIO, TS_ECAP or
 * TS_ENOMEM; the caller frees *out. */
static int slurp(const char *path, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return TS_EIO;
	ts_buf b = {.cap = NAB_MAX_FILE};
	char tmp[65536];
	size_t r;
	int rc = 0;
	while (!rc && (r = fread(tmp, 1, sizeof tmp, f)) > 0)
		rc = ts_buf_add(&b, tmp, r);
	if (!rc && ferror(f))
		rc = TS_EIO;
	fclose(f);
	if (!rc && !b.p)
		rc = ts_buf_grow(&b, 1);
	if (rc) {
		ts_buf_free(&b);
		return rc;
	}
	*out = b.p;
	*len = b.len;
	return 0;
}

/* "YYYY-MM-DD HH:MM:SS" (fraction ignored) to epoch seconds. 0 or -1. */
static int parse_nab_time(const char *p, size_t n, int64_t *sec)
{
	unsigned v[6];
	static const unsigned width[6] = {4, 2, 2, 2, 2, 2};
	static const char sep[6] = {'-', '-', ' ', ':', ':', 0};
	size_t k = 0;
	for (int f = 0; f < 6; f++) {
		v[f] = 0;
		for (unsigned c = 0; c < width[f]; c++, k++) {
			if (k >= n || p[k] < '0' || p[k] > '9')
				return -1;
			v[f] = v[f] * 10 + (unsigned)(p[k] - '0');
		}
		if (sep[f]) {
			if (k >= n || (p[k] != sep[f] && !(f == 2 && p[k] == 'T')))
				return -1;
			k++;
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
		return -1;
	*sec = ts_days_from_civil(v[0], v[1], v[2]) * 86400 + v[3] * 3600 + v[4] * 60 + v[5];
	return 0;
}

/* One data file: rows point into text, which is modified (lines cut). */
typedef struct nab_file {
	char *text;
	size_t n;
	const char **row; /* "timestamp,value" of each row, as in the file */
	int64_t *t;
	double *x;
} nab_file;

static void nab_file_free(nab_file *f)
{
	free(f->text);
	free(f->row);
	free(f->t);
	free(f->x);
	memset(f, 0, sizeof *f);
}

/* Read a NAB data file (header "timestamp,value"). 0, or an error code with
 * a message in err. */
static int nab_file_read(const char *path, nab_file *f, char *err, size_t errlen)
{
	memset(f, 0, sizeof *f);
	size_t len;
	int rc = slurp(path, &f->text, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 rc == TS_EIO ? strerror(errno) : ts_strerror(rc));
		return rc;
	}
	size_t lines = 1;
	for (size_t i = 0; i < len; i++)
		lines += f->text[i] == '\n';
	f->row = malloc(lines * sizeof *f->row);
	f->t = malloc(lines * sizeof *f->t);
	f->x = malloc(lines * sizeof *f->x);
	if (!f->row || !f->t || !f->x) {
		snprintf(err, errlen, "'%s': %s", path, ts_strerror(TS_ENOMEM));
		return TS_ENOMEM;
	}
	char *p = f->text, *end = f->text + len;
	size_t line = 0;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (nl > p && nl[-1] == '\r')
			nl[-1] = '\0';
		line++;
		if (line == 1) {
			if (strncmp(p, "timestamp,value", 15) != 0) {
				snprintf(err, errlen, "%s:1: header is not 'timestamp,value'", path);
				return TS_EINVAL;
			}
		} else if (*p) {
			char *comma = strchr(p, ',');
			char *vend;
			if (!comma || parse_nab_time(p, (size_t)(comma - p), &f->t[f->n])) {
				snprintf(err, errlen, "%s:%zu: bad timestamp", path, line);
				return TS_EINVAL;
			}
			errno = 0;
			f->x[f->n] = strtod(comma + 1, &vend);
			if (errno || vend == comma + 1 || *vend || !isfinite(f->x[f->n])) {
				snprintf(err, errlen, "%s:%zu: bad value", path, line);
				return TS_EINVAL;
			}
			f->row[f->n++] = p;
		}
		p = nl + 1;
	}
	return 0;
}

/* The labelled windows, combined_windows.json: "<category>/<name>.csv" ->
 * [[start, end], ...]. Only used to write NAB's label column. */
typedef int64_t nab_span[2]; /* first and last second of a window */

typedef struct nab_windows {
	size_t n;
	char **key;       /* "<category>/<name>.csv" */
	size_t *count;    /* windows of each key */
	nab_span **win;
} nab_windows;

static void nab_windows_free(nab_windows *w)
{
	for (size_t i = 0; i < w->n; i++) {
		free(w->key[i]);
		free(w->win[i]);
	}
	free(w->key);
	free(w->count);
	free(w->win);
	memset(w, 0, sizeof *w);
}

/* Index of the token after the value starting at token i. */
static int tok_skip(const jsmntok_t *tok, int ntok, int i)
{
	int end = tok[i].end;
	i++;
	while (i < ntok && tok[i].start < end)
		i++;
	return i;
}

static int nab_windows_read(const char *path, nab_windows *w, char *err, size_t errlen)
{
	memset(w, 0, sizeof *w);
	char *js;
	size_t len;
	int rc = slurp(path, &js, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read '%s': %s", path,
			 rc == TS_EIO ? strerror(errno) : ts_strerror(rc));
		return rc;
	}
	jsmn_parser ps;
	jsmn_init(&ps);
	int ntok = jsmn_parse(&ps, js, len, NULL, 0);
	jsmntok_t *tok = ntok > 0 ? malloc(sizeof *tok * (size_t)ntok) : NULL;
	rc = TS_EJSON;
	if (!tok)
		goto bad;
	jsmn_init(&ps);
	if (jsmn_parse(&ps, js, len, tok, (unsigned)ntok) != ntok || tok[0].type != JSMN_OBJECT)
		goto bad;
	size_t nkeys = (size_t)tok[0].size;
	w->key = calloc(nkeys ? nkeys : 1, sizeof *w->key);
	w->count = calloc(nkeys ? nkeys : 1, sizeof *w->count);
	w->win = calloc(nkeys ? nkeys : 1, sizeof *w->win);
	if (!w->key || !w->count || !w->win) {
		rc = TS_ENOMEM;
		goto bad;
	}
	int i = 1;
	for (size_t k = 0; k < nkeys; k++) {
		if (i >= ntok || tok[i].type != JSMN_STRING || i + 1 >= ntok ||
		    tok[i + 1].type != JSMN_ARRAY)
			goto bad;
		w->key[k] = strndup(js + tok[i].start, (size_t)(tok[i].end - tok[i].start));
		size_t nw = (size_t)tok[i + 1].size;
		w->win[k] = malloc(sizeof *w->win[k] * (nw ? nw : 1));
		w->n = k + 1;
		if (!w->key[k] || !w->win[k]) {
			rc = TS_ENOMEM;
			goto bad;
		}
		int j = i + 2;
		for (size_t q = 0; q < nw; q++) {
			if (j + 2 >= ntok || tok[j].type != JSMN_ARRAY || tok[j].size != 2 ||
			    tok[j + 1].type != JSMN_STRING || tok[j + 2].type != JSMN_STRING)
				goto bad;
			for (int e = 0; e < 2; e++) {
				const jsmntok_t *s = &tok[j + 1 + e];
				if (parse_nab_time(js + s->start, (size_t)(s->end - s->start),
						   &w->win[k][q][e]))
					goto bad;
			}
			j += 3;
		}
		w->count[k] = nw;
		i = tok_skip(tok, ntok, i + 1);
	}
	free(tok);
	free(js);
	return 0;
bad:
	if (rc == TS_EJSON)
		snprintf(err, errlen, "'%s': not NAB's windows JSON ({\"cat/name.csv\": [[start, end], ...]})",
			 path);
	else
		snprintf(err, errlen, "'%s': %s", path, ts_strerror(rc));
	free(tok);
	free(js);
	nab_windows_free(w);
	return rc;
}

/* The windows of key, or NULL if the file has no entry. */
static const nab_span *windows_of(const nab_windows *w, const char *key, size_t *n)
{
	for (size_t i = 0; i < w->n; i++)
		if (strcmp(w->key[i], key) == 0) {
			*n = w->count[i];
			return w->win[i];
		}
	*n = 0;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The run. */

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Names in dir: subfolders (dirs=1) or *.csv files (dirs=0), sorted. The
 * caller frees each name and the array. 0 or an error code. */
static int list_dir(const char *dir, int dirs, char ***out, size_t *nout)
{
	DIR *d = opendir(dir);
	if (!d)
		return TS_EIO;
	char **v = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *e;
	while (!rc && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char path[4096];
		if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
			continue;
		struct stat st;
		if (stat(path, &st))
			continue;
		size_t l = strlen(e->d_name);
		if (dirs ? !S_ISDIR(st.st_mode)
			 : !S_ISREG(st.st_mode) || l < 5 || strcmp(e->d_name + l - 4, ".csv") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			char **nv = realloc(v, cap * sizeof *v);
			if (!nv) {
				rc = TS_ENOMEM;
				break;
			}
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			rc = TS_ENOMEM;
		else
			n++;
	}
	closedir(d);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(v[i]);
		free(v);
		return rc;
	}
	if (n)
		qsort(v, n, sizeof *v, cmp_name);
	*out = v;
	*nout = n;
	return 0;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static int make_dir(const char *path)
{
	if (mkdir(path, 0777) == 0 || errno == EEXIST)
		return 0;
	nab_err("cannot create '%s': %s", path, strerror(errno));
	return TS_EIO;
}

typedef struct run_stats {
	size_t files, rows, starts, labelled;
} run_stats;

static int run_file(const nab_settings *set, const nab_windows *wins, const char *data,
		    const char *out, const char *cat, const char *name, run_stats *st)
{
	char in[4096], res[4096], key[1024], err[4400];
	if ((size_t)snprintf(in, sizeof in, "%s/%s/%s", data, cat, name) >= sizeof in ||
	    (size_t)snprintf(res, sizeof res, "%s/" NAB_DETECTOR "/%s/" NAB_DETECTOR "_%s", out, cat,
			     name) >= sizeof res ||
	    (size_t)snprintf(key, sizeof key, "%s/%s", cat, name) >= sizeof key) {
		nab_err("path too long: '%s/%s'", cat, name);
		return TS_EINVAL;
	}
	nab_file f;
	int rc = nab_file_read(in, &f, err, sizeof err);
	if (rc) {
		nab_err("%s", err);
		nab_file_free(&f);
		return rc;
	}
	size_t cap = f.n ? f.n : 1;
	double *score = calloc(cap, sizeof *score);
	nab_series s = {.set = set};
	ts_detector_init(&s.det);
	s.t = malloc(cap * sizeof *s.t);
	s.x = malloc(cap * sizeof *s.x);
	s.dev = malloc(cap * sizeof *s.dev);
	if (!score || !s.t || !s.x || !s.dev) {
		rc = TS_ENOMEM;
		nab_err("'%s': %s", in, ts_strerror(rc));
		goto done;
	}
	/* the arrays are the file's length so that no row is copied; the
	 * model and the detector only ever see the rows before the current */
	for (size_t i = 0; i < f.n && !rc; i++)
		rc = nab_series_step(&s, f.t[i], f.x[i], &score[i]);
	if (rc) {
		nab_err("'%s': %s", in, ts_strerror(rc));
		goto done;
	}
	/* labels: only now, for NAB's column */
	size_t nw;
	const nab_span *w = windows_of(wins, key, &nw);
	if (!w && wins->n)
		nab_err("warning: '%s' has no entry in the windows file; label 0 throughout", key);
	FILE *o = fopen(res, "w");
	if (!o) {
		nab_err("cannot write '%s': %s", res, strerror(errno));
		rc = TS_EIO;
		goto done;
	}
	fputs("timestamp,value,anomaly_score,label\n", o);
	for (size_t i = 0; i < f.n; i++) {
		int label = 0;
		for (size_t q = 0; q < nw && !label; q++)
			label = f.t[i] >= w[q][0] && f.t[i] <= w[q][1];
		st->labelled += (size_t)label;
		fprintf(o, "%s,%.9f,%d\n", f.row[i], score[i], label);
	}
	if (ferror(o) | fclose(o)) {
		nab_err("cannot write '%s': %s", res, strerror(errno));
		rc = TS_EIO;
		goto done;
	}
	st->files++;
	st->rows += f.n;
	st->starts += s.starts;
done:
	free(s.t);
	free(s.x);
	free(s.dev);
	free(score);
	nab_file_free(&f);
	return rc;
}

static void usage(FILE *o)
{
	fputs("usage: nab [--profile FILE] [--labels WINDOWS.json] [--set KEY=VALUE]...\n"
	      "           DATA_DIR RESULTS_DIR\n"
	      "\n"
	      "Scores every DATA_DIR/<category>/<name>.csv of the Numenta Anomaly Benchmark\n"
	      "with trailsight's model and detector and writes NAB's results layout,\n"
	      "RESULTS_DIR/" NAB_DETECTOR "/<category>/" NAB_DETECTOR "_<name>.csv\n"
	      "(timestamp,value,anomaly_score,label). The label column comes from\n"
	      "WINDOWS.json (NAB's labels/combined_windows.json); without it, 0.\n"
	      "FILE is a trailsight profile (bench/nab.profile; without it, the built-in\n"
	      "defaults; give it before any --set). --set changes one setting for every\n"
	      "file (see bench/nab.md): a profile key (p_start, p_continue, windows,\n"
	      "end_after, cooldown, min_duration, ...) or one of refit=25 warmup=50\n"
	      "sqrt_counts=1 ref=300 warm=50 history=4000 tail_frac=0.01 tail_min=25\n"
	      "day_bins=48 week_bins=168 periods=4 season_shrink=1 margin=0.05 seasons=7\n"
	      "spread_min=32.\n",
	      o);
}

int main(int argc, char **argv)
{
	gsl_set_error_handler_off();
	nab_settings set;
	nab_defaults(&set);
	const char *labels = NULL;
	int a = 1;
	for (; a < argc && argv[a][0] == '-' && argv[a][1]; a++) {
		if (!strcmp(argv[a], "-h") || !strcmp(argv[a], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[a], "--profile") && a + 1 < argc) {
			/* a profile starts from the defaults: it replaces earlier --set
			 * of profile keys */
			char perr[512];
			if (ts_profile_load(argv[++a], NULL, &set.prof, perr, sizeof perr)) {
				nab_err("%s", perr);
				return 1;
			}
		} else if (!strcmp(argv[a], "--labels") && a + 1 < argc) {
			labels = argv[++a];
		} else if (!strcmp(argv[a], "--set") && a + 1 < argc) {
			if (nab_set(&set, argv[++a])) {
				nab_err("--set %s: unknown key or bad value", argv[a]);
				return 1;
			}
		} else if (!strcmp(argv[a], "--")) {
			a++;
			break;
		} else {
			nab_err("unknown option '%s' (try --help)", argv[a]);
			return 1;
		}
	}
	if (argc - a != 2) {
		usage(stderr);
		return 1;
	}
	const char *data = argv[a], *out = argv[a + 1];
	nab_windows wins = {0};
	char err[4400];
	if (labels && nab_windows_read(labels, &wins, err, sizeof err)) {
		nab_err("%s", err);
		return 1;
	}
	char **cats = NULL;
	size_t ncat = 0;
	int rc = list_dir(data, 1, &cats, &ncat);
	if (rc || ncat == 0) {
		nab_err("'%s': %s", data, rc ? strerror(errno) : "no category folders");
		nab_windows_free(&wins);
		return 1;
	}
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_stats st = {0};
	char path[4096];
	snprintf(path, sizeof path, "%s/" NAB_DETECTOR, out);
	rc = make_dir(out) || make_dir(path);
	for (size_t c = 0; c < ncat && !rc; c++) {
		char cdir[4096];
		char **files = NULL;
		size_t nf = 0;
		if ((size_t)snprintf(cdir, sizeof cdir, "%s/%s", data, cats[c]) >= sizeof cdir ||
		    (size_t)snprintf(path, sizeof path, "%s/" NAB_DETECTOR "/%s", out, cats[c]) >=
			    sizeof path) {
			nab_err("path too long: '%s'", cats[c]);
			rc = TS_EINVAL;
			break;
		}
		if ((rc = list_dir(cdir, 0, &files, &nf))) {
			nab_err("cannot list '%s': %s", cdir, strerror(errno));
			break;
		}
		if (nf)
			rc = make_dir(path);
		for (size_t i = 0; i < nf && !rc; i++)
			rc = run_file(&set, &wins, data, out, cats[c], files[i], &st);
		free_names(files, nf);
	}
	free_names(cats, ncat);
	nab_windows_free(&wins);
	if (rc)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fprintf(stderr, "nab: %zu files, %zu rows, %zu starts flagged, %zu rows in labelled windows, %.1f s\n",
		st.files, st.rows, st.starts, st.labelled, secs);
	return 0;
}
