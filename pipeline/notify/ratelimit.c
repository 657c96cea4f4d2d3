#include "pipeline/notify/ratelimit.h"

void rate_limit_init(struct rate_limit *rl, uint32_t limit, uint64_t window_ns)
{
	*rl = (struct rate_limit){ .limit = limit < 1 ? 1 : limit > RATE_LIMIT_MAX ? RATE_LIMIT_MAX : limit,
				   .window_ns = window_ns };
}

/* Tokens spent a whole window ago are back. */
static void give_back(struct rate_limit *rl, uint64_t now_ns)
{
	while (rl->spent && now_ns - rl->spent_at[rl->head] >= rl->window_ns) {
		rl->head = (rl->head + 1) % rl->limit;
		rl->spent--;
	}
}

bool rate_limit_take(struct rate_limit *rl, uint64_t now_ns)
{
	give_back(rl, now_ns);
	if (rl->spent == rl->limit)
		return false;
	rl->spent_at[(rl->head + rl->spent) % rl->limit] = now_ns;
	rl->spent++;
	return true;
}

uint64_t rate_limit_next_ns(const struct rate_limit *rl, uint64_t now_ns)
{
	struct rate_limit copy = *rl;
	give_back(&copy, now_ns);
	if (copy.spent < copy.limit)
		return now_ns;
	return copy.spent_at[copy.head] + copy.window_ns;
}
