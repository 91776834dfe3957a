/* test_jblock.c - the block classifier against a byte-at-a-time oracle:
 * every mask of ts_jblock_split, ts_jblock_full and ts_jblock_lean_of, the
 * escaped bytes and the prefix XOR, on blocks made of JSON's special
 * bytes (so that runs of backslashes, quotes and brackets meet at every
 * position) and on random bytes of all 256 values. */
#include <stdint.h>
#include <stdlib.h>

#include "../check.h"
#include "jblock.h"

static void oracle(const unsigned char *s, ts_jblock *k)
{
	*k = (ts_jblock){0};
	for (int i = 0; i < 64; i++) {
		uint64_t bit = (uint64_t)1 << i;
		unsigned char c = s[i];
		if (c == '"')
			k->quote |= bit;
		if (c == '\\')
			k->bslash |= bit;
		if (c == '{' || c == '}' || c == '[' || c == ']')
			k->bracket |= bit;
		if (c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',')
			k->structural |= bit;
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
			k->blank |= bit;
		if (c == 0)
			k->nul |= bit;
		if (c >= 0x80)
			k->high |= bit;
	}
}

/* Escapes by walking the bytes in order, as a JSON reader does. */
static uint64_t oracle_escaped(const unsigned char *s, int carry_in, int *carry_out)
{
	uint64_t esc = 0;
	int escaping = carry_in;
	for (int i = 0; i < 64; i++) {
		if (escaping) {
			esc |= (uint64_t)1 << i;
			escaping = 0;
		} else if (s[i] == '\\') {
			escaping = 1;
		}
	}
	*carry_out = escaping;
	return esc;
}

static int same(const ts_jblock *a, const ts_jblock *b, int full)
{
	int ok = a->quote == b->quote && a->bslash == b->bslash && a->bracket == b->bracket;
	if (full)
		ok = ok && a->structural == b->structural && a->blank == b->blank && a->nul == b->nul &&
		     a->high == b->high;
	return ok;
}

static void check_block(const unsigned char *s)
{
	ts_jblock want, got;
	oracle(s, &want);
	ts_jblock_split(s, &got);
	CHECK(same(&got, &want, 0));
	ts_jblock_full(s, &got);
	CHECK(same(&got, &want, 1));
	ts_jblock_lean lean;
	ts_jblock_lean_of(s, &lean);
	uint64_t low = 0;
	for (int i = 0; i < 64; i++)
		low |= (uint64_t)(s[i] <= 0x20) << i;
	CHECK(lean.quote == want.quote && lean.bslash == want.bslash &&
	      lean.structural == want.structural && lean.low == low);
	CHECK_INT(lean.high != 0, want.high != 0);
	for (int cin = 0; cin < 2; cin++) {
		int c1, c2;
		uint64_t e = ts_jblock_escaped(want.bslash, cin, &c1);
		uint64_t o = oracle_escaped(s, cin, &c2);
		CHECK(e == o);
		CHECK_INT(c1, c2);
	}
	uint64_t x = 0, px = 0;
	for (int i = 0; i < 64; i++) {
		x ^= want.quote >> i & 1;
		px |= x << i;
	}
	CHECK(ts_jblock_prefix_xor(want.quote) == px);
}

static void test_special_bytes(void)
{
	static const unsigned char alphabet[] = "\"\\{}[]:, \t\n\ra0\x80\xff";
	unsigned char s[64];
	srand(7);
	for (int round = 0; round < 20000; round++) {
		for (int i = 0; i < 64; i++)
			s[i] = alphabet[rand() % (int)(sizeof alphabet - 1)];
		if (round % 3 == 0)
			s[rand() % 64] = 0;
		check_block(s);
	}
	/* all backslashes, and backslash runs ending at byte 63 */
	for (int len = 0; len <= 64; len++) {
		for (int i = 0; i < 64; i++)
			s[i] = i >= 64 - len ? '\\' : 'a';
		check_block(s);
	}
}

static void test_any_bytes(void)
{
	unsigned char s[64];
	srand(11);
	for (int round = 0; round < 20000; round++) {
		for (int i = 0; i < 64; i++)
			s[i] = (unsigned char)(rand() & 0xff);
		check_block(s);
	}
	for (int c = 0; c < 256; c++) {
		for (int i = 0; i < 64; i++)
			s[i] = (unsigned char)c;
		check_block(s);
	}
}

TS_TESTS(test_special_bytes, test_any_bytes)
