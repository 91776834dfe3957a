/* fuzz_event.c - an insight event read back (insight_read.c: the report's
 * and `trailsight noise`'s input, a file a user hands over) and the rule
 * noise.c writes for it. Parsing either fails with a message or fills
 * every string NUL-terminated; the rule text has lines a rules file can
 * hold (at most 1022 bytes, no NUL, each a comment, blank or a key of the
 * rule) and each "key = pattern" line of the series rule sets a valid
 * pattern that matches the event's own value; a rule is refused only for
 * an empty value. Any breach aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "noise.h"
#include "scope.h"

static void terminated(const char *s, size_t n)
{
	if (!memchr(s, '\0', n))
		abort();
}

/* The pattern on a line "key = pattern" must match value. */
static void check_key(const char *text, const char *key, const char *value)
{
	char want[64];
	snprintf(want, sizeof want, "\n%s = ", key);
	const char *at = strstr(text, want);
	if (!at)
		abort();
	at += strlen(want);
	const char *nl = strchr(at, '\n');
	if (!nl)
		abort();
	char *pat = strndup(at, (size_t)(nl - at));
	if (!pat)
		abort();
	ts_pattern p = {0};
	if (ts_pattern_set(&p, pat) || !ts_pattern_match(&p, ts_str_c(value)))
		abort();
	ts_pattern_clear(&p);
	free(pat);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ts_event ev;
	char err[256];
	int rc = ts_event_parse((const char *)data, size, &ev, err, sizeof err);
	if (rc) {
		if (rc != TS_EJSON && rc != TS_EFIELD && rc != TS_ENOMEM)
			abort();
		terminated(err, sizeof err);
		return 0;
	}
	terminated(ev.account, sizeof ev.account);
	terminated(ev.region, sizeof ev.region);
	terminated(ev.source, sizeof ev.source);
	terminated(ev.name, sizeof ev.name);
	terminated(ev.error_code, sizeof ev.error_code);
	terminated(ev.shared_id, sizeof ev.shared_id);
	if (ev.n_attrs > 3)
		abort();
	ts_buf out = {0};
	rc = ts_noise_rule(&ev, &out);
	if (rc == TS_EFIELD && (out.len || (ev.account[0] && ev.region[0] && ev.source[0] &&
					    ev.name[0] && (ev.type != TS_ERROR_RATE || ev.error_code[0]))))
		abort();
	if (rc == 0 && ts_buf_add(&out, "", 1) == 0) {
		if (strlen(out.p) != out.len - 1)
			abort();
		static const char *const keys[] = {"rule = ", "action = ", "account = ", "region = ",
						   "eventSource = ", "eventName = ", "errorCode = "};
		for (const char *l = out.p; *l;) {
			const char *nl = strchr(l, '\n');
			size_t n = nl ? (size_t)(nl - l) : strlen(l);
			if (n > 1022) /* kvfile.h: the longest line a rules file has */
				abort();
			int known = n == 0 || l[0] == '#';
			for (size_t i = 0; !known && i < sizeof keys / sizeof keys[0]; i++)
				known = strncmp(l, keys[i], strlen(keys[i])) == 0;
			if (!known)
				abort();
			l += n + (nl != NULL);
		}
		check_key(out.p, "account", ev.account);
		check_key(out.p, "region", ev.region);
		check_key(out.p, "eventSource", ev.source);
		check_key(out.p, "eventName", ev.name);
		if (ev.type == TS_ERROR_RATE)
			check_key(out.p, "errorCode", ev.error_code);
	}
	ts_buf_free(&out);
	ts_event_clear(&ev);
	return 0;
}
