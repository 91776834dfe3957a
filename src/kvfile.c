/* kvfile.c - the "key = value" line reader shared by profiles and rules
 * files. It owns nothing beyond one open FILE during ts_kv_read. */
#include <errno.h>

#include "kvfile.h"
#include "util.h"

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	char *e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

int ts_kv_read(const char *path, const char *what, ts_kv_fn fn, void *ctx, char *err,
	       size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
		return TS_EIO;
	}
	char line[1024], why[256];
	int lineno = 0, rc = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		size_t len = strlen(line);
		if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
			snprintf(err, errlen, "%s:%d: line longer than %zu bytes", path, lineno,
				 sizeof line - 2);
			rc = TS_EINVAL;
			break;
		}
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		char *s = trim(line);
		if (!*s)
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
			rc = TS_EINVAL;
			break;
		}
		*eq = '\0';
		char *k = trim(s), *v = trim(eq + 1);
		why[0] = '\0';
		int r = fn(ctx, k, v, lineno, why, sizeof why);
		if (r == TS_KV_OK)
			continue;
		if (r == TS_KV_NOMEM) {
			snprintf(err, errlen, "%s:%d: out of memory", path, lineno);
			rc = TS_ENOMEM;
		} else {
			if (r == TS_KV_WHY)
				snprintf(err, errlen, "%s:%d: %s", path, lineno, why);
			else
				snprintf(err, errlen, "%s:%d: %s '%s'", path, lineno,
					 r == TS_KV_UNKNOWN_KEY ? "unknown key" : "bad value for", k);
			rc = TS_EINVAL;
		}
		break;
	}
	if (!rc && ferror(f)) {
		snprintf(err, errlen, "cannot read %s '%s': %s", what, path, strerror(errno));
		rc = TS_EIO;
	}
	fclose(f);
	return rc;
}

int ts_kv_name_ok(const char *v, size_t max)
{
	size_t n = strlen(v);
	if (!n || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = v[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}
