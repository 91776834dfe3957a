/* util.c - string buffer, calendar arithmetic, UTF-8 check, hash, log.
 *
 * The calendar functions use the days-from-civil algorithm on the
 * proleptic Gregorian calendar (era of 400 years = 146097 days); they never
 * consult the C library's time zone state, so results do not depend on TZ.
 */
#include <errno.h>
#include <stdlib.h>

#include "util.h"

int ts_log_level = 1;

int ts_buf_grow(ts_buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : SIZE_MAX / 2;
	if (n > cap || b->len > cap - n)
		return TS_ECAP;
	size_t need = b->len + n + 1;
	if (need <= b->alloc)
		return 0;
	size_t na = b->alloc ? b->alloc : 64;
	while (na < need)
		na = na > SIZE_MAX / 4 ? need : na * 2;
	char *p = realloc(b->p, na);
	if (!p)
		return TS_ENOMEM;
	if (!b->p)
		p[0] = '\0';
	b->p = p;
	b->alloc = na;
	return 0;
}

int ts_buf_add(ts_buf *b, const void *p, size_t n)
{
	int rc = ts_buf_grow(b, n);
	if (rc)
		return rc;
	if (n)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
	return 0;
}

int ts_buf_puts(ts_buf *b, const char *s) { return ts_buf_add(b, s, strlen(s)); }

int ts_buf_printf(ts_buf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return TS_EINVAL;
	if ((size_t)n < sizeof tmp)
		return ts_buf_add(b, tmp, (size_t)n);
	int rc = ts_buf_grow(b, (size_t)n);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void ts_buf_free(ts_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->alloc = 0;
}

int64_t ts_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void ts_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	*d = doy - (153 * mp + 2) / 5 + 1;
	*m = mp < 10 ? mp + 3 : mp - 9;
	*y = (int64_t)yoe + era * 400 + (*m <= 2);
}

void ts_format_minute(int64_t minute, char out[21])
{
	int64_t y;
	unsigned mo, d;
	int64_t day = ts_day_of(minute);
	unsigned mod = (unsigned)(minute - day * TS_MIN_PER_DAY);
	ts_civil_from_days(day, &y, &mo, &d);
	unsigned yy = y < 0 ? 0 : y > 9999 ? 9999 : (unsigned)y;
	snprintf(out, 21, "%04u-%02u-%02uT%02u:%02u:00Z", yy % 10000u, mo % 100u, d % 100u,
		 (mod / 60) % 100u, mod % 60);
}

void ts_format_time(int64_t secs, char out[21])
{
	int64_t minute = ts_floordiv(secs, 60);
	ts_format_minute(minute, out);
	unsigned sec = (unsigned)(secs - minute * 60);
	out[17] = (char)('0' + sec / 10);
	out[18] = (char)('0' + sec % 10);
}

static int digits(const char *s, int n, unsigned *out)
{
	unsigned v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	*out = v;
	return 0;
}

int ts_parse_time(const char *s, size_t n, int64_t *sec)
{
	static const unsigned mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, se;
	if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
	    s[13] != ':' || s[16] != ':')
		return TS_EBADTIME;
	if (digits(s, 4, &y) || digits(s + 5, 2, &mo) || digits(s + 8, 2, &d) ||
	    digits(s + 11, 2, &h) || digits(s + 14, 2, &mi) || digits(s + 17, 2, &se))
		return TS_EBADTIME;
	size_t i = 19;
	if (i < n && s[i] == '.') {
		i++;
		size_t f = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == f || i - f > 9)
			return TS_EBADTIME;
	}
	int64_t shift = 0; /* seconds to add to local time for UTC */
	if (i + 1 == n && (s[i] == 'Z' || s[i] == 'z')) {
		/* UTC */
	} else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
		unsigned oh, om;
		if (digits(s + i + 1, 2, &oh) || digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return TS_EBADTIME;
		shift = (int64_t)(oh * 3600 + om * 60) * (s[i] == '+' ? -1 : 1);
	} else {
		return TS_EBADTIME;
	}
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 ||
	    mi > 59 || se > 60)
		return TS_EBADTIME;
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo == 2 && d == 29 && !leap)
		return TS_EBADTIME;
	*sec = ts_days_from_civil(y, mo, d) * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + se +
	       shift;
	return *sec < 0 ? TS_EBADTIME : 0;
}

int ts_parse_minute_arg(const char *s, int64_t *out)
{
	char buf[32];
	size_t n = strlen(s);
	if (n == 10)
		snprintf(buf, sizeof buf, "%sT00:00:00Z", s);
	else if (n == 17 && s[16] == 'Z')
		snprintf(buf, sizeof buf, "%.16s:00Z", s);
	else if (n < sizeof buf)
		snprintf(buf, sizeof buf, "%s", s);
	else
		return -1;
	int64_t sec;
	if (ts_parse_time(buf, strlen(buf), &sec))
		return -1;
	*out = ts_floordiv(sec, 60);
	return 0;
}

static int hex4(const char *s, unsigned *v)
{
	unsigned x = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		unsigned d;
		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return -1;
		x = x << 4 | d;
	}
	*v = x;
	return 0;
}

long ts_json_unescape(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c != '\\') {
			out[o++] = c;
			continue;
		}
		if (++i >= n)
			return -1;
		switch (s[i]) {
		case '"': out[o++] = '"'; break;
		case '\\': out[o++] = '\\'; break;
		case '/': out[o++] = '/'; break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u': {
			unsigned cp, lo;
			if (n - i < 5 || hex4(s + i + 1, &cp))
				return -1;
			i += 4;
			if (cp >= 0xdc00 && cp <= 0xdfff)
				return -1;
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (n - i < 7 || s[i + 1] != '\\' || s[i + 2] != 'u' ||
				    hex4(s + i + 3, &lo) || lo < 0xdc00 || lo > 0xdfff)
					return -1;
				i += 6;
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			}
			if (cp < 0x80) {
				out[o++] = (char)cp;
			} else if (cp < 0x800) {
				out[o++] = (char)(0xc0 | cp >> 6);
				out[o++] = (char)(0x80 | (cp & 0x3f));
			} else if (cp < 0x10000) {
				out[o++] = (char)(0xe0 | cp >> 12);
				out[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
				out[o++] = (char)(0x80 | (cp & 0x3f));
			} else {
				out[o++] = (char)(0xf0 | cp >> 18);
				out[o++] = (char)(0x80 | (cp >> 12 & 0x3f));
				out[o++] = (char)(0x80 | (cp >> 6 & 0x3f));
				out[o++] = (char)(0x80 | (cp & 0x3f));
			}
			break;
		}
		default:
			return -1;
		}
	}
	return (long)o;
}

int ts_utf8_valid(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s, *e = p + n;
	while (p < e) {
		/* fast path: eight ASCII bytes at a time */
		if ((size_t)(e - p) >= 8) {
			uint64_t w;
			memcpy(&w, p, 8);
			if (!(w & 0x8080808080808080ull)) {
				p += 8;
				continue;
			}
		}
		unsigned c = *p;
		if (c < 0x80) {
			p++;
			continue;
		}
		size_t len;
		unsigned min;
		if (c >= 0xc2 && c <= 0xdf)
			len = 2, min = 0x80;
		else if (c >= 0xe0 && c <= 0xef)
			len = 3, min = 0x800;
		else if (c >= 0xf0 && c <= 0xf4)
			len = 4, min = 0x10000;
		else
			return 0;
		if ((size_t)(e - p) < len)
			return 0;
		unsigned cp = c & (0x7f >> len);
		for (size_t k = 1; k < len; k++) {
			if ((p[k] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (p[k] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		p += len;
	}
	return 1;
}

uint64_t ts_hash(const void *p, size_t n, uint64_t seed)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ull ^ seed;
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		h = (h ^ w) * 0x100000001b3ull;
		h ^= h >> 29;
	}
	for (; i < n; i++)
		h = (h ^ s[i]) * 0x100000001b3ull;
	h ^= h >> 32;
	h *= 0xd6e8feb86659fd93ull;
	h ^= h >> 32;
	return h;
}

void ts_log(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warning", "info", "debug"};
	if (level > ts_log_level)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "trailsight: %s: ", names[level < 0 ? 0 : level > 3 ? 3 : level]);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

int ts_parse_double(const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (errno || end == s || *end || !(d >= lo && d <= hi))
		return -1;
	*out = d;
	return 0;
}

int ts_grow(void *arr, size_t *cap, size_t need, size_t elem, size_t first)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : (first ? first : 1);
	while (n < need) {
		if (n > SIZE_MAX / 2)
			return TS_ENOMEM;
		n *= 2;
	}
	if (n > SIZE_MAX / elem)
		return TS_ENOMEM;
	void *p;
	memcpy(&p, arr, sizeof p);
	unsigned char *q = realloc(p, n * elem);
	if (!q)
		return TS_ENOMEM;
	memset(q + *cap * elem, 0, (n - *cap) * elem);
	p = q;
	memcpy(arr, &p, sizeof p);
	*cap = n;
	return 0;
}

int ts_pathlist_push(ts_pathlist *l, const char *s)
{
	if (ts_grow(&l->paths, &l->alloc, l->n + 1, sizeof *l->paths, 64))
		return TS_ENOMEM;
	size_t len = strlen(s);
	char *c = malloc(len + 1);
	if (!c)
		return TS_ENOMEM;
	memcpy(c, s, len + 1);
	l->paths[l->n++] = c;
	return 0;
}

void ts_pathlist_free(ts_pathlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->paths[i]);
	free(l->paths);
	memset(l, 0, sizeof *l);
}
