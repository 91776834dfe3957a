/* store_redis_chunk.c - a frozen checkpoint chunk in compact form, and its
 * flush-script call made only while it is being sent.
 *
 * A checkpoint freezes hundreds of thousands of cells; as argument strings
 * with hiredis's argv/argvlen arrays each cell cost about 100 bytes (two
 * arguments, 16 bytes of arrays each, the text, and for attribution cells
 * the value string every time). Frozen, a chunk is a byte string of items
 * instead (a "spec"): a count cell is two varints (field and sum), an
 * attribution cell an hour, a kind and the offset of its value string,
 * which is stored once per chunk. rs_chunk_expand turns the spec into the
 * EVAL/EVALSHA call (argv, lengths, text) just before a send and
 * rs_chunk_shrink drops it after, so at most one group of chunks is ever
 * held as text. Expanding reads nothing but the chunk, so the background
 * flush thread may do it.
 *
 * Items (one tag byte, RS_IT_KEY set for a KEYS argument, then the payload):
 *   STR  u32 length, bytes        an argument
 *   NUM  varint                   a decimal argument
 *   ATTR u8 hour, u8 kind, u32    "HH:kind:VALUE", VALUE at that offset
 *   VAL  u32 length, bytes        a value ATTR items refer to (no argument)
 *   BLOB                          the chunk's state blob
 *   SEQ                           the chunk's sequence number (renumbering
 *                                 a chunk changes only ch->seq)
 */
#include <stdlib.h>

#include "store_redis_int.h"
#include "util.h"

enum {
	RS_IT_STR = 1, RS_IT_NUM, RS_IT_ATTR, RS_IT_VAL, RS_IT_BLOB, RS_IT_SEQ,
	RS_IT_KEY = 0x80
};

static const char *const kind_names[TS_A_KINDS] = {"arn", "agent", "code"};

const char *rs_attr_kind_name(unsigned kind)
{
	return kind < TS_A_KINDS ? kind_names[kind] : "?";
}

static void put_u32(unsigned char *p, uint32_t v) { memcpy(p, &v, 4); }

static uint32_t get_u32(const unsigned char *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static int tag(rs_spec *s, int t, int key)
{
	unsigned char c = (unsigned char)(t | (key ? RS_IT_KEY : 0));
	if (!s->err)
		s->err = ts_buf_add(&s->b, &c, 1);
	if (!s->err && t != RS_IT_VAL) {
		if (key)
			s->nkeys++;
		else
			s->nargs++;
	}
	return s->err;
}

int rs_spec_str_begin(rs_spec *s, int key, size_t *off)
{
	static const unsigned char zero[4];
	if (!tag(s, RS_IT_STR, key))
		s->err = ts_buf_add(&s->b, zero, 4);
	*off = s->b.len;
	return s->err;
}

int rs_spec_str_end(rs_spec *s, size_t off)
{
	if (!s->err) {
		if (s->b.len - off > UINT32_MAX)
			s->err = TS_ECAP;
		else
			put_u32((unsigned char *)s->b.p + off - 4, (uint32_t)(s->b.len - off));
	}
	return s->err;
}

int rs_spec_str(rs_spec *s, int key, const char *p, size_t n)
{
	size_t off;
	if (!rs_spec_str_begin(s, key, &off))
		s->err = ts_buf_add(&s->b, p, n);
	return rs_spec_str_end(s, off);
}

int rs_spec_num(rs_spec *s, uint64_t v)
{
	unsigned char t[10];
	size_t n = 0;
	do {
		t[n] = (unsigned char)(v & 0x7f);
		v >>= 7;
		if (v)
			t[n] |= 0x80;
		n++;
	} while (v);
	if (!tag(s, RS_IT_NUM, 0))
		s->err = ts_buf_add(&s->b, t, n);
	return s->err;
}

int rs_spec_blob(rs_spec *s, char *blob, size_t len)
{
	s->blob = blob;
	s->blob_len = len;
	return tag(s, RS_IT_BLOB, 0);
}

int rs_spec_seq(rs_spec *s) { return tag(s, RS_IT_SEQ, 0); }

static size_t vid_hash(uint32_t vid)
{
	uint64_t h = (uint64_t)(vid + 1) * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 32);
}

/* The offset of value vid's VAL item in this chunk, written at its first
 * use; the table is emptied by rs_spec_take (stamps, not a clear). */
static int val_off(rs_spec *s, uint32_t vid, const char *p, size_t n, uint32_t *out)
{
	if (!s->stamp) /* empty slots have stamp 0: a chunk's are never 0 */
		s->stamp = 1;
	if ((s->nvals + 1) * 2 > s->vslots) {
		size_t ns = s->vslots ? s->vslots * 2 : 256;
		rs_vslot *nv = calloc(ns, sizeof *nv);
		if (!nv)
			return s->err = TS_ENOMEM;
		for (size_t i = 0; i < s->vslots; i++) {
			if (s->vtab[i].stamp != s->stamp)
				continue;
			size_t j = vid_hash(s->vtab[i].vid) & (ns - 1);
			while (nv[j].stamp == s->stamp)
				j = (j + 1) & (ns - 1);
			nv[j] = s->vtab[i];
		}
		free(s->vtab);
		s->vtab = nv;
		s->vslots = ns;
	}
	size_t j = vid_hash(vid) & (s->vslots - 1);
	while (s->vtab[j].stamp == s->stamp && s->vtab[j].vid != vid)
		j = (j + 1) & (s->vslots - 1);
	if (s->vtab[j].stamp == s->stamp) {
		*out = s->vtab[j].off;
		return 0;
	}
	if (s->b.len > UINT32_MAX - 16 || n > UINT32_MAX)
		return s->err = TS_ECAP;
	unsigned char h[5] = {RS_IT_VAL};
	put_u32(h + 1, (uint32_t)n);
	uint32_t off = (uint32_t)s->b.len + 1;
	if ((s->err = ts_buf_add(&s->b, h, 5)) || (s->err = ts_buf_add(&s->b, p, n)))
		return s->err;
	s->vtab[j] = (rs_vslot){vid, off, s->stamp};
	s->nvals++;
	*out = off;
	return 0;
}

int rs_spec_attr(rs_spec *s, unsigned hh, unsigned kind, uint32_t vid, const char *val,
		 size_t n)
{
	if (s->err)
		return s->err;
	uint32_t off;
	if (val_off(s, vid, val, n, &off))
		return s->err;
	unsigned char it[6] = {(unsigned char)hh, (unsigned char)kind};
	put_u32(it + 2, off);
	if (!tag(s, RS_IT_ATTR, 0))
		s->err = ts_buf_add(&s->b, it, 6);
	return s->err;
}

void rs_spec_free(rs_spec *s)
{
	ts_buf_free(&s->b);
	free(s->vtab);
	memset(s, 0, sizeof *s);
}

/* Move the spec into ch (b is left empty, its value table kept). */
int rs_spec_take(rs_spec *s, uint32_t pid, uint64_t seq, size_t ncells, chunk *ch)
{
	memset(ch, 0, sizeof *ch);
	if (s->err)
		return s->err;
	char *fit = s->b.p ? realloc(s->b.p, s->b.len + 1) : NULL;
	if (fit)
		s->b.p = fit;
	ch->spec = (unsigned char *)s->b.p;
	ch->spec_len = s->b.len;
	ch->nkeys = s->nkeys;
	ch->nargs = s->nargs;
	ch->partition = pid;
	ch->seq = seq;
	ch->ncells = ncells;
	ch->blob = s->blob;
	ch->blob_len = s->blob_len;
	ch->bytes = s->b.len + 1 + s->blob_len;
	s->b.p = NULL;
	s->b.len = s->b.alloc = 0;
	s->nkeys = s->nargs = 0;
	s->blob = NULL;
	s->blob_len = 0;
	s->nvals = 0;
	s->stamp++;
	if (!s->stamp) { /* wrapped: stamps start again on a clean table */
		memset(s->vtab, 0, s->vslots * sizeof *s->vtab);
		s->stamp = 1;
	}
	return 0;
}

static uint64_t get_varint(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	uint64_t v = 0;
	for (unsigned sh = 0;; sh += 7) {
		v |= (uint64_t)(*p & 0x7f) << sh;
		if (!(*p++ & 0x80))
			break;
	}
	*pp = p;
	return v;
}

static size_t put_dec(char *o, uint64_t v)
{
	char t[20];
	size_t n = 0;
	do {
		t[sizeof t - 1 - n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	memcpy(o, t + sizeof t - n, n);
	o[n] = '\0';
	return n;
}

/* Walk the spec: with o == NULL only the text size, else the arguments. */
static size_t walk(chunk *h, char *o)
{
	const unsigned char *p = h->spec, *end = h->spec + h->spec_len;
	size_t need = 0, k = 3, a = 3 + h->nkeys;
	while (p < end) {
		int t = *p & 0x7f, key = (*p & RS_IT_KEY) != 0;
		p++;
		const char *arg = NULL;
		size_t len = 0;
		switch (t) {
		case RS_IT_STR:
		case RS_IT_VAL:
			len = get_u32(p);
			arg = (const char *)p + 4;
			p += 4 + len;
			if (t == RS_IT_VAL)
				continue;
			if (o) {
				memcpy(o + need, arg, len);
				o[need + len] = '\0';
				arg = o + need;
			}
			need += len + 1;
			break;
		case RS_IT_NUM:
		case RS_IT_SEQ: {
			uint64_t v = t == RS_IT_SEQ ? h->seq : get_varint(&p);
			if (o) {
				len = put_dec(o + need, v);
				arg = o + need;
			}
			need += o ? len + 1 : 21;
			break;
		}
		case RS_IT_ATTR: {
			unsigned hh = p[0], kind = p[1];
			const unsigned char *v = h->spec + get_u32(p + 2);
			size_t vl = get_u32(v);
			const char *kn = rs_attr_kind_name(kind);
			p += 6;
			if (o) {
				char *w = o + need;
				len = (size_t)snprintf(w, 16, "%02u:%s:", hh % 100, kn);
				memcpy(w + len, v + 4, vl);
				len += vl;
				w[len] = '\0';
				arg = w;
			}
			need += o ? len + 1 : 4 + strlen(kn) + 1 + vl + 1;
			break;
		}
		case RS_IT_BLOB:
			arg = h->blob ? h->blob : "";
			len = h->blob_len;
			break;
		default:
			return SIZE_MAX; /* not a spec this file wrote */
		}
		if (o) {
			size_t i = key ? k++ : a++;
			h->argv[i] = arg;
			h->argvlen[i] = len;
		}
	}
	return need;
}

int rs_chunk_expand(chunk *h, const char *cmd, const char *a1, size_t a1len)
{
	rs_chunk_shrink(h);
	size_t argc = 3 + (size_t)h->nkeys + h->nargs, need = walk(h, NULL);
	if (need == SIZE_MAX)
		return TS_EINVAL;
	need += 24; /* numkeys */
	h->argv = malloc(argc * sizeof *h->argv);
	h->argvlen = malloc(argc * sizeof *h->argvlen);
	h->text = malloc(need);
	if (!h->argv || !h->argvlen || !h->text) {
		rs_chunk_shrink(h);
		return TS_ENOMEM;
	}
	h->argv[0] = cmd;
	h->argvlen[0] = strlen(cmd);
	h->argv[1] = a1;
	h->argvlen[1] = a1len;
	h->argvlen[2] = put_dec(h->text, h->nkeys);
	h->argv[2] = h->text;
	walk(h, h->text + h->argvlen[2] + 1);
	h->argc = (int)argc;
	return 0;
}

void rs_chunk_shrink(chunk *h)
{
	free(h->argv);
	free(h->argvlen);
	free(h->text);
	h->argv = NULL;
	h->argvlen = NULL;
	h->text = NULL;
	h->argc = 0;
}

void rs_chunk_free(chunk *h)
{
	rs_chunk_shrink(h);
	free(h->spec);
	h->spec = NULL;
	if (h->owns_blob)
		free(h->blob);
	h->blob = NULL;
	h->owns_blob = 0;
}
