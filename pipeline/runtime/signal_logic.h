/*
 * The strategy stage's logic, shared by the live strategy stage and by
 * `fks replay`, so that both run exactly the same code on the same events.
 *
 * Built from the config: the `strategies` list runs in the signal engine
 * (strategies/engine.h: signals, confidence, regime gates, sizing,
 * brackets); without it, the single `strategy` crossover
 * (strategies/ma_cross.h) runs per instrument.  Either way it is a pure
 * function of the events fed to it, in order: market events through
 * signal_logic_on_market, execution reports through signal_logic_on_exec.
 *
 * Everything it produces goes out through the emit callback, in order:
 * FKS_EV_SIGNAL (for the journal only), FKS_EV_ORDER_NEW and
 * FKS_EV_ORDER_CANCEL (for risk and the venue).  h.seq is left as the
 * producer numbered it; the caller stamps its own stage sequence.
 */
#ifndef FKS_PIPELINE_SIGNAL_LOGIC_H
#define FKS_PIPELINE_SIGNAL_LOGIC_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/config/config.h"
#include "strategies/engine.h"
#include "shm/event.h"
#include "strategies/impl/ma_cross.h"

typedef void (*signal_emit_fn)(void *ctx, const union fks_event *ev);

struct signal_logic {
	bool use_engine;
	signal_emit_fn emit;
	void *ctx;
	uint32_t n;                                  /* crossover: instruments */
	struct ma_cross cross[FKS_MAX_INSTRUMENTS];  /* crossover: by id - 1 */
	struct engine engine;
};

/* Set up L from cfg (L is large: allocate it).  0, or -1 with a message. */
int signal_logic_init(struct signal_logic *L, const struct fks_config *cfg, signal_emit_fn emit, void *ctx,
		      char *err, size_t errlen);
void signal_logic_free(struct signal_logic *L);

void signal_logic_on_market(struct signal_logic *L, const union fks_event *md);
void signal_logic_on_exec(struct signal_logic *L, const union fks_event *ev);

#endif
