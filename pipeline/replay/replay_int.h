/*
 * Private to pipeline/replay/: what the files of `fks replay` share.
 *
 *   replay_setup.c   the setup and its knobs (replay.h)
 *   replay_core.c    the core: strategy, risk and venue per market event
 *   replay_inputs.c  a journal, a jsonl recording, a venue recording
 *   replay_run.c     one replay: input -> core -> --out, --report, summary
 *   replay_verify.c  --verify
 *   replay_sweep.c   --sweep: the grid, the worker processes, the ranking
 *   replay_cli.c     the options of `fks replay` and replay_main()
 *
 * Outside this folder, use replay.h.
 */
#ifndef FKS_PIPELINE_REPLAY_INT_H
#define FKS_PIPELINE_REPLAY_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "pipeline/replay/replay.h"
#include "pipeline/journal/journal.h"
#include "pipeline/runtime/feed_source.h"
#include "pipeline/runtime/lockstep.h"
#include "pipeline/runtime/venue_driver.h"

/* ---- setup (replay_setup.c) ---------------------------------------------- */

/* The single `strategy` crossover runs: no specs, and no config strategies. */
bool replay_uses_crossover(const struct replay_setup *s);

/* ---- the core (replay_core.c) --------------------------------------------- */

#define OWNER_SLOTS 16384u /* order id -> strategy; open orders only, <= 1/2 full */

struct owner_slot {
	uint64_t order_id;
	uint16_t strategy;
};

struct replay_core {
	struct replay_setup s;
	replay_sink_fn sink;
	void *ctx;
	struct lockstep *ls;           /* the live strategy, risk and gateway kernels */
	struct report report;
	struct owner_slot owner[OWNER_SLOTS];
	uint32_t n_owner;
	struct replay_counts c;
};

/* The kernels of a setup in lockstep (the config's, or its --strategy
 * specs in place of its strategies; the setup's venue knobs), tapping into
 * tap.  --verify drives them a stage at a time.  0, or -1 with a message. */
int replay_lockstep_open(const struct replay_setup *s, lockstep_tap_fn tap, void *ctx, struct lockstep **out,
			 char *err, size_t errlen);

/* ---- inputs (replay_inputs.c) ---------------------------------------------
 * A journal directory (its market events, in journal order), a recording in
 * replay's own JSON-lines format (one event per line), a venue recording
 * read through pipeline/runtime/feed_source exactly as `fks run` reads it,
 * or a run published on NATS JetStream (nats://..., pipeline/bus/). */

enum { IN_JOURNAL = 1, IN_RECORDING = 2, IN_VENUE = 3, IN_BUS = 4 };

enum rec_error {
	REC_BAD_JSON, REC_MISSING_FIELD, REC_BAD_NUMBER, REC_BAD_SIDE, REC_UNKNOWN_SYMBOL, REC_LINE_TOO_LONG,
	REC_ERROR_COUNT
};

struct input;
typedef int (*decode_fn)(struct input *in, const char *msg, size_t len);

struct replay_decoder {
	const char *name;
	decode_fn decode;       /* NULL: a venue format, read through feed_source */
};

#define QUEUE_MAX 8

struct input {
	int kind;
	const char *path;
	struct journal_reader *jr;
	const struct journal_meta *meta;
	FILE *f;
	char *line;
	size_t line_cap;
	const struct replay_decoder *dec;
	const struct fks_config *cfg;
	bool touch_from_trades;
	uint64_t seq, lines, corrupt;
	uint64_t err[REC_ERROR_COUNT];
	union fks_event q[QUEUE_MAX];
	unsigned qn, qi;
	/* IN_VENUE: a venue recording read by the feed stage's own source
	 * (transport + decoder); one message can make hundreds of events (a
	 * book snapshot), so they queue in a buffer that grows. */
	struct feed_source *src;
	struct feed_symtab *symbols;
	union fks_event *vq;
	size_t vq_n, vq_i, vq_cap;
	bool vq_oom;
	/* IN_BUS: a run read back from NATS JetStream (nats://...), up to
	 * what the stream held when it was reached. */
	struct bus_reader *br;
	bool bus_caught_up;
	const char *title;      /* the report's title when not the path's name */
};

/* Open the input and settle the config: config_path if given, else the
 * journal's own, else the default.  cfg must stay valid while in is used.
 * 0, or -1 with a message. */
int input_open(struct input *in, const char *path, const char *venue, const char *config_path,
	       bool touch_from_trades, struct fks_config *cfg, char *err, size_t errlen);
/* The next market event: 1, 0 at the end, -1 on an error that ends it. */
int input_next(struct input *in, union fks_event *ev, char *err, size_t errlen);
void input_close(struct input *in);
/* The counted, skipped lines and records, one line per kind. */
void input_print_errors(const struct input *in, FILE *f);

/* ---- options (replay_cli.c) and one replay (replay_run.c) ----------------- */

enum speed_mode { SPEED_ASAP = 0, SPEED_REAL = 1 };

#define REPLAY_SWEEP_AXES 8
#define REPLAY_SWEEP_VALUES 64
#define REPLAY_MAX_SETS 32

struct opts {
	const char *input, *venue, *config, *out, *report_dir;
	int speed;
	double speed_x;
	bool verify, touch_from_trades, quiet;
	const char *rank;
	int n_sweep;
	struct sweep_axis {
		char key[64];
		char *vals[REPLAY_SWEEP_VALUES];
		int n;
	} sweep[REPLAY_SWEEP_AXES];
	int n_set;
	char *set_key[REPLAY_MAX_SETS], *set_val[REPLAY_MAX_SETS];
	int n_strategy;
	const char *strategy[REPLAY_MAX_SPECS];
};

/* Replay `in` with setup s, writing o->out and o->report_dir if set; *m
 * gets the total metrics, and with print the summary goes to stdout.
 * 0, or 1 with the message printed. */
int replay_run_one(const struct opts *o, const struct replay_setup *s, struct input *in,
		   struct report_metrics *m, bool print);

/* ---- --verify (replay_verify.c) and --sweep (replay_sweep.c) -------------- */

/* Exit code of `fks replay --verify`: 0 all match, 1 a mismatch or error. */
int replay_verify(const struct opts *o, const struct replay_setup *s);

/* Combinations in the grid. */
int replay_sweep_count(const struct opts *o);
/* Exit code of `fks replay --sweep`. */
int replay_sweep(const struct opts *o, const struct replay_setup *base);

#endif
