/*
 * Tests for gateway/order.c: the transition table, every state x input.
 *
 * The legal moves are written out below by hand, independently of the
 * table in order.c; every other pair must be refused, leave the order as
 * it was, and count one error at [state][input].
 */
#include <criterion/criterion.h>

#include <string.h>

#include "gateway/order.h"
#include "shm/event.h"

struct move {
	enum order_state from;
	enum order_input in;
	enum order_state to;      /* with a fill of 3 out of 10 leaves, nothing filled before */
};

static const struct move legal[] = {
	{ ORDER_ST_NONE, ORDER_IN_SUBMIT, ORDER_ST_PENDING_NEW },

	{ ORDER_ST_PENDING_NEW, ORDER_IN_ACK, ORDER_ST_NEW },
	{ ORDER_ST_PENDING_NEW, ORDER_IN_REJECT, ORDER_ST_REJECTED },
	{ ORDER_ST_PENDING_NEW, ORDER_IN_FILL, ORDER_ST_PARTIALLY_FILLED },
	{ ORDER_ST_PENDING_NEW, ORDER_IN_CANCEL_REQUEST, ORDER_ST_PENDING_CANCEL },
	{ ORDER_ST_PENDING_NEW, ORDER_IN_CANCEL_ACK, ORDER_ST_CANCELED },
	{ ORDER_ST_PENDING_NEW, ORDER_IN_EXPIRE, ORDER_ST_EXPIRED },

	{ ORDER_ST_NEW, ORDER_IN_FILL, ORDER_ST_PARTIALLY_FILLED },
	{ ORDER_ST_NEW, ORDER_IN_CANCEL_REQUEST, ORDER_ST_PENDING_CANCEL },
	{ ORDER_ST_NEW, ORDER_IN_CANCEL_ACK, ORDER_ST_CANCELED },
	{ ORDER_ST_NEW, ORDER_IN_REPLACE_REQUEST, ORDER_ST_PENDING_REPLACE },
	{ ORDER_ST_NEW, ORDER_IN_EXPIRE, ORDER_ST_EXPIRED },

	{ ORDER_ST_PARTIALLY_FILLED, ORDER_IN_FILL, ORDER_ST_PARTIALLY_FILLED },
	{ ORDER_ST_PARTIALLY_FILLED, ORDER_IN_CANCEL_REQUEST, ORDER_ST_PENDING_CANCEL },
	{ ORDER_ST_PARTIALLY_FILLED, ORDER_IN_CANCEL_ACK, ORDER_ST_CANCELED },
	{ ORDER_ST_PARTIALLY_FILLED, ORDER_IN_REPLACE_REQUEST, ORDER_ST_PENDING_REPLACE },
	{ ORDER_ST_PARTIALLY_FILLED, ORDER_IN_EXPIRE, ORDER_ST_EXPIRED },

	{ ORDER_ST_PENDING_CANCEL, ORDER_IN_FILL, ORDER_ST_PENDING_CANCEL },
	{ ORDER_ST_PENDING_CANCEL, ORDER_IN_CANCEL_ACK, ORDER_ST_CANCELED },
	{ ORDER_ST_PENDING_CANCEL, ORDER_IN_CANCEL_REJECT, ORDER_ST_NEW },
	{ ORDER_ST_PENDING_CANCEL, ORDER_IN_EXPIRE, ORDER_ST_EXPIRED },

	{ ORDER_ST_PENDING_REPLACE, ORDER_IN_FILL, ORDER_ST_PENDING_REPLACE },
	{ ORDER_ST_PENDING_REPLACE, ORDER_IN_CANCEL_ACK, ORDER_ST_CANCELED },
	{ ORDER_ST_PENDING_REPLACE, ORDER_IN_REPLACE_ACK, ORDER_ST_REPLACED },
	{ ORDER_ST_PENDING_REPLACE, ORDER_IN_REPLACE_REJECT, ORDER_ST_NEW },
	{ ORDER_ST_PENDING_REPLACE, ORDER_IN_EXPIRE, ORDER_ST_EXPIRED },
};

static const struct move *find_legal(enum order_state s, enum order_input in)
{
	for (size_t k = 0; k < sizeof legal / sizeof legal[0]; k++)
		if (legal[k].from == s && legal[k].in == in)
			return &legal[k];
	return NULL;
}

static struct order order_in(enum order_state s)
{
	struct order o;

	order_submit(&o, 7, 1, FKS_SIDE_BUY, FKS_ORD_LIMIT, FKS_TIF_GTC, 100, 10);
	o.state = (uint8_t)s;
	return o;
}

Test(order, every_state_and_input)
{
	struct order_errors err;
	uint64_t refused = 0;

	memset(&err, 0, sizeof err);
	for (int s = 0; s < ORDER_ST_COUNT; s++)
		for (int in = 0; in < ORDER_IN_COUNT; in++) {
			const struct move *m = find_legal(s, in);
			struct order o = order_in(s), before = o;
			bool moved = order_apply(&o, in, 3, &err);

			cr_assert_eq(order_next(s, in), m ? m->to : ORDER_ST_NONE, "table %s x %s",
				     order_state_name(s), order_input_name(in));
			if (m) {
				cr_assert(moved, "%s x %s refused", order_state_name(s), order_input_name(in));
				cr_assert_eq(o.state, m->to, "%s x %s -> %s, want %s", order_state_name(s),
					     order_input_name(in), order_state_name(o.state),
					     order_state_name(m->to));
				cr_assert_eq(err.illegal[s][in], 0);
			} else {
				refused++;
				cr_assert_not(moved, "%s x %s accepted", order_state_name(s),
					      order_input_name(in));
				cr_assert_eq(memcmp(&o, &before, sizeof o), 0, "refused input changed the order");
				cr_assert_eq(err.illegal[s][in], 1, "%s x %s not counted", order_state_name(s),
					     order_input_name(in));
			}
		}
	cr_assert_eq(err.total, refused);
	cr_assert_eq(refused, ORDER_ST_COUNT * ORDER_IN_COUNT - sizeof legal / sizeof legal[0]);
	cr_assert_eq(err.bad_fill, 0);
}

Test(order, final_states_refuse_everything)
{
	enum order_state finals[] = { ORDER_ST_FILLED, ORDER_ST_CANCELED, ORDER_ST_REPLACED,
				      ORDER_ST_REJECTED, ORDER_ST_EXPIRED };
	for (size_t k = 0; k < 5; k++) {
		cr_assert(order_is_final(finals[k]));
		cr_assert_not(order_is_open(finals[k]));
		for (int in = 0; in < ORDER_IN_COUNT; in++)
			cr_assert_eq(order_next(finals[k], in), ORDER_ST_NONE);
	}
	cr_assert_not(order_is_open(ORDER_ST_NONE));
	cr_assert(order_is_open(ORDER_ST_PENDING_NEW));
	cr_assert(order_is_open(ORDER_ST_PENDING_CANCEL));
}

Test(order, out_of_range_values_are_refused_and_counted)
{
	struct order_errors err;
	struct order o = order_in(ORDER_ST_NEW);

	memset(&err, 0, sizeof err);
	cr_assert_eq(order_next(ORDER_ST_COUNT, ORDER_IN_ACK), ORDER_ST_NONE);
	cr_assert_eq(order_next(ORDER_ST_NEW, ORDER_IN_COUNT), ORDER_ST_NONE);
	cr_assert_not(order_apply(&o, ORDER_IN_COUNT, 0, &err));
	o.state = 200;
	cr_assert_not(order_apply(&o, ORDER_IN_ACK, 0, &err));
	cr_assert_eq(err.total, 2);
	cr_assert_str_eq(order_state_name(ORDER_ST_COUNT), "?");
	cr_assert_str_eq(order_input_name(ORDER_IN_COUNT), "?");
	cr_assert_not(order_apply(&o, ORDER_IN_ACK, 0, NULL)); /* no counters: still refused */
}

Test(order, a_life_with_quantities)
{
	struct order_errors err;
	struct order o;

	memset(&err, 0, sizeof err);
	order_submit(&o, 9, 2, FKS_SIDE_SELL, FKS_ORD_LIMIT, FKS_TIF_GTC, 50, 10);
	cr_assert_eq(o.state, ORDER_ST_PENDING_NEW);
	cr_assert(order_apply(&o, ORDER_IN_ACK, 0, &err));
	cr_assert(order_apply(&o, ORDER_IN_FILL, 4, &err));
	cr_assert_eq(o.state, ORDER_ST_PARTIALLY_FILLED);
	cr_assert_eq(o.leaves, 6);
	cr_assert_eq(o.filled, 4);
	cr_assert(order_apply(&o, ORDER_IN_CANCEL_REQUEST, 0, &err));
	cr_assert(order_apply(&o, ORDER_IN_CANCEL_REJECT, 0, &err));
	cr_assert_eq(o.state, ORDER_ST_PARTIALLY_FILLED, "a cancel reject after a fill");
	cr_assert(order_apply(&o, ORDER_IN_REPLACE_REQUEST, 0, &err));
	cr_assert(order_apply(&o, ORDER_IN_FILL, 6, &err));
	cr_assert_eq(o.state, ORDER_ST_FILLED, "a fill of all leaves ends a pending replace");
	cr_assert_eq(o.leaves, 0);
	cr_assert_eq(o.filled, 10);
	cr_assert_not(order_apply(&o, ORDER_IN_REPLACE_ACK, 0, &err));
	cr_assert_eq(err.illegal[ORDER_ST_FILLED][ORDER_IN_REPLACE_ACK], 1);
	cr_assert_eq(err.total, 1);
}

Test(order, bad_fills_are_refused_and_counted)
{
	struct order_errors err;
	struct order o = order_in(ORDER_ST_NEW);

	memset(&err, 0, sizeof err);
	cr_assert_not(order_apply(&o, ORDER_IN_FILL, 0, &err));
	cr_assert_not(order_apply(&o, ORDER_IN_FILL, -1, &err));
	cr_assert_not(order_apply(&o, ORDER_IN_FILL, 11, &err));
	cr_assert_eq(o.state, ORDER_ST_NEW);
	cr_assert_eq(o.leaves, 10);
	cr_assert_eq(err.bad_fill, 3);
	cr_assert_eq(err.illegal[ORDER_ST_NEW][ORDER_IN_FILL], 3);
	cr_assert(order_apply(&o, ORDER_IN_FILL, 10, &err));
	cr_assert_eq(o.state, ORDER_ST_FILLED);
}

Test(order, cancel_expire_and_reject_zero_the_leaves)
{
	enum order_input ends[] = { ORDER_IN_CANCEL_ACK, ORDER_IN_EXPIRE };
	for (size_t k = 0; k < 2; k++) {
		struct order o = order_in(ORDER_ST_NEW);
		cr_assert(order_apply(&o, ends[k], 0, NULL));
		cr_assert_eq(o.leaves, 0);
	}
	struct order o = order_in(ORDER_ST_PENDING_NEW);
	cr_assert(order_apply(&o, ORDER_IN_REJECT, 0, NULL));
	cr_assert_eq(o.leaves, 0);
	cr_assert_eq(o.state, ORDER_ST_REJECTED);
}
