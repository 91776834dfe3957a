/* report_html.c - the pieces every report page shares: the style sheet,
 * the head and foot, escaping, number and time formats, indented event
 * JSON, safe file names and writing a page whole (see report_html.h).
 * Nothing is kept between calls.
 */
#include <errno.h>
#include <math.h>

#include "report_data.h"
#include "report_html.h"
#include "svg.h"

/* A file-name-safe copy of s: [A-Za-z0-9._-] kept, others '_'. */
void ts_rh_safe_name(const char *s, char *out, size_t cap)
{
	size_t i = 0;
	for (; s[i] && i + 1 < cap; i++) {
		char c = s[i];
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			 c == '.' || c == '-' || c == '_';
		out[i] = ok ? c : '_';
	}
	out[i] = '\0';
}


static const char css[] =
	"body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,'DejaVu Sans',sans-serif;"
	"margin:0;color:#1d2433;background:#f5f6f8}"
	"header{background:#1d2433;color:#fff;padding:10px 20px}header a{color:#cfe0ff}"
	"header .brand{font-weight:700;margin-right:14px}"
	"main{max-width:1280px;margin:0 auto;padding:14px 20px 30px}"
	"h1{font-size:1.3em;margin:.3em 0 .1em;word-break:break-word}h2{font-size:1.08em;margin:1.4em 0 .5em}"
	"h3{font-size:.95em;margin:.2em 0 .4em;color:#4a5366}"
	".sub{color:#5a6478}.muted{color:#6b7487;font-size:.88em}"
	".cards{display:flex;flex-wrap:wrap;gap:8px;margin:12px 0}"
	".card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:7px 12px;min-width:120px}"
	".card b{display:block;font-size:1.2em}.card span{color:#5a6478;font-size:.82em}"
	".chart{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:4px}"
	"svg.ts-chart{width:100%;height:auto;display:block}"
	".narrow{display:none}@media (max-width:700px){.wide{display:none}.narrow{display:block}"
	"main{padding:10px}}"
	".ts-observed{fill:none;stroke:#1f4e9c;stroke-width:1.7;stroke-linejoin:round}"
	".ts-expected{fill:none;stroke:#1b7f73;stroke-width:1.4;stroke-dasharray:6 3}"
	".ts-band{fill:#2a9d8f;fill-opacity:.2;stroke:none}"
	".ts-lastweek{fill:none;stroke:#8a93a6;stroke-width:1;stroke-opacity:.75}"
	".ts-episode{fill:#f4a261;fill-opacity:.17}"
	".ts-start line,.ts-end line{stroke:#c1121f;stroke-width:1.5}.ts-end line{stroke-dasharray:5 3}"
	".ts-start text,.ts-end text{fill:#c1121f;font-weight:600}"
	".ts-grid{stroke:#e6e8ee}.ts-frame{fill:none;stroke:#b8bfcc}"
	"svg text{fill:#4a5366}.ts-date{font-weight:600}.ts-unit{font-weight:600}"
	".legend{font-size:.85em;margin:6px 4px;color:#4a5366}"
	".legend span{margin-right:14px;white-space:nowrap;display:inline-block}"
	".legend i{display:inline-block;width:20px;height:0;border-top:2px solid;vertical-align:middle;"
	"margin-right:5px}"
	".legend i.band{height:9px;border:0;background:#2a9d8f;opacity:.35}"
	".legend i.ep{height:9px;border:0;background:#f4a261;opacity:.45}"
	"table{border-collapse:collapse;width:100%;background:#fff}"
	"th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e6e8ee;vertical-align:top}"
	"th{font-size:.85em;color:#4a5366;background:#fafbfc;white-space:nowrap}"
	"td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	".scroll{overflow-x:auto;border:1px solid #dde1e8;border-radius:6px}"
	".attrs{display:grid;grid-template-columns:1fr 1fr;gap:10px;margin-bottom:10px}"
	"@media (max-width:700px){.attrs{grid-template-columns:1fr}}"
	".val{word-break:break-all}"
	"pre{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:10px;overflow-x:auto;"
	"font-size:12px;line-height:1.35}"
	"dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 14px;background:#fff;"
	"border:1px solid #dde1e8;border-radius:6px;padding:10px 14px;margin:0}dt{color:#5a6478}dd{margin:0}"
	".filters{margin:8px 0 12px;line-height:2}.filters b{margin-right:6px}"
	".filters a{margin-right:10px}.filters a.on{font-weight:700;color:#1d2433;text-decoration:none}"
	".tag{display:inline-block;padding:0 7px;border-radius:4px;font-size:.82em;white-space:nowrap}"
	".spike{background:#e7eefc;color:#1f4e9c}.drop{background:#fff1e0;color:#9a4b00}"
	".error{background:#fde8e8;color:#b42318}"
	".code{color:#b42318;font-size:.9em}"
	"footer{color:#6b7487;font-size:.82em;margin-top:24px}";

int ts_rh_esc(ts_buf *b, const char *s) { return ts_html_escape(b, s, strlen(s)); }

int ts_rh_head(ts_buf *b, const char *title, const char *root)
{
	int rc = ts_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
				"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
				"<title>");
	if (!rc)
		rc = ts_rh_esc(b, title);
	if (!rc)
		rc = ts_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n<header><span "
				      "class=\"brand\">trailsight</span><a href=\"%sindex.html\">All "
				      "insights</a></header>\n<main>\n",
				   css, root);
	return rc;
}

int ts_rh_foot(ts_buf *b, const char *source, const char *profile)
{
	int rc = ts_buf_puts(b, "<footer>Counts per minute from ");
	if (!rc)
		rc = ts_rh_esc(b, source && *source ? source : "the store");
	if (!rc)
		rc = ts_buf_printf(b, "; expected rate and its %g&ndash;%g %% band refitted with "
				      "profile &ldquo;",
				   TS_BAND_LO * 100, TS_BAND_HI * 100);
	if (!rc)
		rc = ts_rh_esc(b, profile);
	if (!rc)
		rc = ts_buf_puts(b, "&rdquo;. Times in UTC.</footer>\n</main>\n</body>\n</html>\n");
	return rc;
}

void ts_rh_time(int64_t m, char out[24])
{
	char iso[21];
	ts_format_minute(m, iso);
	snprintf(out, 24, "%.10s %.5s", iso, iso + 11);
}

void ts_rh_num(double v, char *out, size_t cap)
{
	if (isnan(v))
		snprintf(out, cap, "&ndash;");
	else if (v >= 100 || v == floor(v))
		snprintf(out, cap, "%.0f", v);
	else if (v >= 10)
		snprintf(out, cap, "%.1f", v);
	else if (v < 0.01)
		snprintf(out, cap, "%.2g", v);
	else
		snprintf(out, cap, "%.2f", v);
}

int ts_rh_write(const char *dir, const char *name, const ts_buf *b, char *err, size_t errlen)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return TS_EIO;
	}
	size_t w = fwrite(b->p, 1, b->len, f);
	if (fclose(f) != 0 || w != b->len) {
		snprintf(err, errlen, "cannot write '%s': %s", path, strerror(errno));
		return TS_EIO;
	}
	return 0;
}

/* JSON text indented two spaces per level, HTML-escaped. */
int ts_rh_pretty_json(ts_buf *b, const char *s, size_t n)
{
	int depth = 0, in_str = 0, rc = 0;
	size_t run = 0;
	for (size_t i = 0; !rc && i < n; i++) {
		char c = s[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
			continue;
		}
		if (c == '"') {
			in_str = 1;
			continue;
		}
		if (c != '{' && c != '[' && c != '}' && c != ']' && c != ',' && c != ':')
			continue;
		rc = ts_html_escape(b, s + run, i - run);
		run = i + 1;
		if (rc)
			break;
		if ((c == '{' || c == '[') && i + 1 < n && (s[i + 1] == '}' || s[i + 1] == ']')) {
			rc = ts_buf_add(b, s + i, 2);
			i++;
			run = i + 1;
			continue;
		}
		if (c == '}' || c == ']')
			depth = depth > 0 ? depth - 1 : 0;
		if (c == ':') {
			rc = ts_buf_puts(b, ": ");
			continue;
		}
		if (c == '}' || c == ']')
			rc = ts_buf_printf(b, "\n%*s%c", depth * 2 > 80 ? 80 : depth * 2, "", c);
		else if (c == ',')
			rc = ts_buf_printf(b, ",\n%*s", depth * 2 > 80 ? 80 : depth * 2, "");
		else {
			depth++;
			rc = ts_buf_printf(b, "%c\n%*s", c, depth * 2 > 80 ? 80 : depth * 2, "");
		}
	}
	if (!rc)
		rc = ts_html_escape(b, s + run, n - run);
	return rc;
}
