/*
 * MoldUDP64: packets built here, byte by byte, carrying ITCH messages, with
 * a duplicate, a heartbeat, gaps (a data packet and a heartbeat reveal
 * them), an overlap, the end of session, malformed packets and a new
 * session.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/decoders/moldudp.h"

struct sink {
	size_t n;
	union fks_event ev[64];
};

static void collect(void *ctx, const union fks_event *ev)
{
	struct sink *s = ctx;
	cr_assert_lt(s->n, 64);
	s->ev[s->n++] = *ev;
}

static void put(char *b, size_t *n, uint64_t v, int w)
{
	for (int i = w - 1; i >= 0; i--)
		b[(*n)++] = (char)(v >> (8 * i));
}

/* ITCH add order for stock "MOLD" at locate 1, with a 2-byte block length. */
static void block_A(char *b, size_t *n, uint64_t ref, uint32_t px)
{
	put(b, n, 36, 2);
	b[(*n)++] = 'A';
	put(b, n, 1, 2);
	put(b, n, 0, 2);
	put(b, n, 1000, 6);
	put(b, n, ref, 8);
	b[(*n)++] = 'B';
	put(b, n, 100, 4);
	memcpy(b + *n, "MOLD    ", 8);
	*n += 8;
	put(b, n, px, 4);
}

static size_t header(char *b, const char *session, uint64_t seq, uint16_t count)
{
	size_t n = 0;
	memcpy(b, session, 10);
	n = 10;
	put(b, &n, seq, 8);
	put(b, &n, count, 2);
	return n;
}

/* A data packet of `count` adds, refs seq.., prices 100 + ref. */
static size_t data(char *b, const char *session, uint64_t seq, uint16_t count)
{
	size_t n = header(b, session, seq, count);
	for (uint16_t k = 0; k < count; k++)
		block_A(b, &n, seq + k, (uint32_t)(100 + seq + k));
	return n;
}

struct rig {
	struct feed_symtab tab;
	struct itch d;
	struct moldudp m;
	struct sink out;
};

static struct rig *rig_new(void)
{
	struct rig *r = calloc(1, sizeof *r);
	feed_symtab_init(&r->tab, true, 4, 0);
	cr_assert_eq(itch_init(&r->d, &r->tab, &(struct itch_cfg){.session_midnight_ns = 0}), 0);
	moldudp_init(&r->m);
	return r;
}

static void rig_free(struct rig *r)
{
	itch_free(&r->d);
	free(r);
}

static uint64_t count_of_A(const struct rig *r)
{
	const struct named_counter *c;
	size_t n = itch_counts(&r->d, &c);
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, "A") == 0)
			return c[i].n;
	return UINT64_MAX;
}

static int send(struct rig *r, const char *p, size_t n)
{
	r->out.n = 0;
	return moldudp_itch_packet(&r->m, &r->d, p, n, 5, collect, &r->out);
}

Test(moldudp, sequencing_duplicates_heartbeats_gaps_and_end)
{
	struct rig *r = rig_new();
	char p[1500];
	const char *S = "SESSION001";

	/* seq 1..2 */
	cr_assert_eq(send(r, p, data(p, S, 1, 2)), MOLDUDP_DATA);
	cr_assert_eq(r->m.next_seq, 3);
	cr_assert_eq(r->out.n, 4, "each add raises the bid: delta + quote twice");
	for (size_t i = 0; i < r->out.n; i++)
		cr_assert_eq(r->out.ev[i].h.flags & FKS_EVF_STALE, 0);
	cr_assert_eq(r->out.ev[0].h.recv_time_ns, 5);

	/* The same packet again (the B feed): dropped. */
	cr_assert_eq(send(r, p, data(p, S, 1, 2)), MOLDUDP_DUPLICATE);
	cr_assert_eq(r->out.n, 0);
	cr_assert_eq(r->m.st.duplicates, 1);
	cr_assert_eq(r->m.st.dup_messages, 2);

	/* A heartbeat at the expected number: nothing missed. */
	cr_assert_eq(send(r, p, header(p, S, 3, 0)), MOLDUDP_HEARTBEAT);
	cr_assert_eq(r->m.st.heartbeats, 1);
	cr_assert_eq(r->m.st.gaps, 0);

	/* seq 5: 3 and 4 were lost.  The books go stale. */
	cr_assert_eq(send(r, p, data(p, S, 5, 1)), MOLDUDP_DATA);
	cr_assert_eq(r->m.st.gaps, 1);
	cr_assert_eq(r->m.st.missed, 2);
	cr_assert_gt(r->out.n, 0);
	for (size_t i = 0; i < r->out.n; i++)
		cr_assert_eq(r->out.ev[i].h.flags & FKS_EVF_STALE, FKS_EVF_STALE);
	cr_assert(itch_book(&r->d, 1)->stale);

	/* A heartbeat announcing 8 next: 6 and 7 were lost. */
	cr_assert_eq(send(r, p, header(p, S, 8, 0)), MOLDUDP_HEARTBEAT);
	cr_assert_eq(r->m.st.gaps, 2);
	cr_assert_eq(r->m.st.missed, 4);

	/* seq 7..9 overlaps: only 8 and 9 are new. */
	cr_assert_eq(send(r, p, data(p, S, 7, 3)), MOLDUDP_DATA);
	cr_assert_eq(r->m.st.dup_messages, 3);
	cr_assert_eq(r->m.next_seq, 10);
	cr_assert_not_null(book_l3_find(&r->d.pool, itch_book(&r->d, 1), 9));
	cr_assert_null(book_l3_find(&r->d.pool, itch_book(&r->d, 1), 7), "7 was skipped");

	/* End of session. */
	cr_assert_eq(send(r, p, header(p, S, 10, 0xFFFF)), MOLDUDP_END);
	cr_assert(r->m.ended);
	cr_assert_eq(r->m.st.end_of_session, 1);
	cr_assert_eq(r->m.st.gaps, 2);

	cr_assert_eq(r->m.st.messages, 5, "1, 2, 5, 8, 9");
	cr_assert_eq(count_of_A(r), 5);

	itch_reset_books(&r->d);
	cr_assert_not(itch_book(&r->d, 1)->stale);
	rig_free(r);
}

Test(moldudp, malformed_packets_are_dropped_whole)
{
	struct rig *r = rig_new();
	char p[1500];
	const char *S = "SESSION001";
	cr_assert_eq(send(r, p, data(p, S, 1, 1)), MOLDUDP_DATA);

	cr_assert_eq(send(r, p, 19), MOLDUDP_MALFORMED, "short header");
	size_t n = data(p, S, 2, 2);
	cr_assert_eq(send(r, p, n - 1), MOLDUDP_MALFORMED, "last block cut");
	p[n] = 0;
	cr_assert_eq(send(r, p, n + 1), MOLDUDP_MALFORMED, "a byte after the last block");
	n = header(p, S, 2, 1);
	put(p, &n, 0, 2);
	cr_assert_eq(send(r, p, n), MOLDUDP_MALFORMED, "zero-length block");
	n = header(p, S, 2, 0);
	p[n++] = 'x';
	cr_assert_eq(send(r, p, n), MOLDUDP_MALFORMED, "heartbeat with a body");
	n = data(p, S, UINT64_MAX, 2);
	cr_assert_eq(send(r, p, n), MOLDUDP_MALFORMED, "sequence wraps");
	cr_assert_eq(r->m.st.malformed, 6);
	cr_assert_eq(r->m.next_seq, 2, "nothing delivered, nothing skipped");
	cr_assert_eq(r->out.n, 0);

	/* A bad ITCH message inside a good packet is the decoder's error. */
	n = header(p, S, 2, 1);
	put(p, &n, 3, 2);
	memcpy(p + n, "Zzz", 3);
	n += 3;
	cr_assert_eq(send(r, p, n), MOLDUDP_DATA);
	const struct named_counter *c;
	itch_errors(&r->d, &c);
	cr_assert_eq(c[-ITCH_E_UNKNOWN_TYPE - 1].n, 1);
	cr_assert_eq(r->m.next_seq, 3);
	rig_free(r);
}

Test(moldudp, a_late_join_and_a_new_session)
{
	struct rig *r = rig_new();
	char p[1500];
	cr_assert_eq(send(r, p, data(p, "SESSION001", 100, 1)), MOLDUDP_DATA);
	cr_assert_eq(r->m.st.gaps, 1, "joined after 99 messages");
	cr_assert_eq(r->m.st.missed, 99);
	cr_assert(itch_book(&r->d, 1)->stale);
	cr_assert_eq(r->out.ev[0].h.flags & FKS_EVF_STALE, FKS_EVF_STALE);

	itch_reset_books(&r->d);
	cr_assert_eq(send(r, p, data(p, "SESSION002", 1, 1)), MOLDUDP_DATA);
	cr_assert_eq(r->m.st.session_changes, 1);
	cr_assert_eq(r->m.st.gaps, 1, "a new session starts at 1");
	cr_assert_eq(r->m.next_seq, 2);
	cr_assert_eq(memcmp(r->m.session, "SESSION002", 10), 0);
	cr_assert_not(itch_book(&r->d, 1)->stale);
	rig_free(r);
}

Test(moldudp, iterating_a_packet_by_hand)
{
	struct moldudp m;
	moldudp_init(&m);
	char p[1500];
	struct moldudp_packet pk;
	cr_assert_eq(moldudp_open(&m, p, data(p, "S         ", 1, 3), &pk), MOLDUDP_DATA);
	const char *msg;
	size_t len;
	uint64_t seq;
	for (uint64_t want = 1; want <= 3; want++) {
		cr_assert(moldudp_next(&pk, &msg, &len, &seq));
		cr_assert_eq(seq, want);
		cr_assert_eq(len, 36);
		cr_assert_eq(msg[0], 'A');
	}
	cr_assert_not(moldudp_next(&pk, &msg, &len, &seq));
}
