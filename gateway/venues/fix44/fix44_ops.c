#include "gateway/venues/fix44/fix44_ops.h"

#include <stdio.h>
#include <string.h>

#include "gateway/venues/fix44/fix_venue.h"

#define SYMBOL_PREFIX "symbol."

struct fix44_params {
	struct fix_session_cfg s;
	char account[FIX_ACCOUNT_MAX];
	struct fix_instrument inst[VENUE_MAX_INSTRUMENTS];
	bool have_port;
};

/* A host, CompID, Account, path or symbol: printable ASCII, no spaces or
 * '=', within cap. */
static int parse_text(const struct fks_param *p, char *out, size_t cap, struct fks_param_error *err)
{
	const char *s = p->value ? p->value : "";
	size_t n = strlen(s);
	if (n == 0 || n >= cap)
		return fks_param_fail(err, p->key, "expected 1..%zu characters, got %zu", cap - 1, n);
	for (size_t i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~' || s[i] == '=')
			return fks_param_fail(err, p->key, "'%s': only printable characters, no spaces or '='", s);
	memcpy(out, s, n + 1);
	return 0;
}

static int parse_bool(const struct fks_param *p, bool *out, struct fks_param_error *err)
{
	if (p->value && strcmp(p->value, "true") == 0)
		*out = true;
	else if (p->value && strcmp(p->value, "false") == 0)
		*out = false;
	else
		return fks_param_fail(err, p->key, "expected true or false, got '%s'", p->value ? p->value : "");
	return 0;
}

static int parse_symbol(struct fix44_params *fp, const struct venue_ctx *ctx, const struct fks_param *p,
			struct fks_param_error *err)
{
	const char *sym = p->key + strlen(SYMBOL_PREFIX);
	for (uint32_t i = 0; i < ctx->n_instruments; i++)
		if (strcmp(ctx->symbol[i], sym) == 0)
			return parse_text(p, fp->inst[i].symbol, sizeof fp->inst[i].symbol, err);
	return fks_param_fail(err, p->key, "'%s' is not an instrument of this config", sym);
}

static int parse_param(struct fix44_params *fp, const struct venue_ctx *ctx, const struct fks_param *p,
		       struct fks_param_error *err)
{
	uint32_t u;
	bool tls = false;
	if (strcmp(p->key, "host") == 0)
		return parse_text(p, fp->s.host, sizeof fp->s.host, err);
	if (strcmp(p->key, "port") == 0) {
		if (venue_parse_u32(p, 1, 65535, &u, err))
			return -1;
		fp->s.port = (uint16_t)u;
		fp->have_port = true;
		return 0;
	}
	if (strcmp(p->key, "sender_comp_id") == 0)
		return parse_text(p, fp->s.sender, sizeof fp->s.sender, err);
	if (strcmp(p->key, "target_comp_id") == 0)
		return parse_text(p, fp->s.target, sizeof fp->s.target, err);
	if (strcmp(p->key, "store") == 0)
		return parse_text(p, fp->s.store, sizeof fp->s.store, err);
	if (strcmp(p->key, "heartbeat_s") == 0)
		return venue_parse_u32(p, 1, 3600, &fp->s.heartbeat_s, err);
	if (strcmp(p->key, "account") == 0)
		return parse_text(p, fp->account, sizeof fp->account, err);
	if (strcmp(p->key, "reset_seq") == 0)
		return parse_bool(p, &fp->s.reset_seq, err);
	if (strcmp(p->key, "tls") == 0) {
		if (parse_bool(p, &tls, err))
			return -1;
		fp->s.tls = tls;
		return 0;
	}
	if (strcmp(p->key, "tls_ca") == 0)
		return parse_text(p, fp->s.tls_ca, sizeof fp->s.tls_ca, err);
	if (strncmp(p->key, SYMBOL_PREFIX, strlen(SYMBOL_PREFIX)) == 0)
		return parse_symbol(fp, ctx, p, err);
	return fks_param_unknown(p, "host, port, sender_comp_id, target_comp_id, store, heartbeat_s, account, "
				    "reset_seq, tls, tls_ca, symbol.<SYMBOL>", err);
}

static int check_required(const struct fix44_params *fp, const struct venue_ctx *ctx, struct fks_param_error *err)
{
	const char *missing = !fp->s.host[0] ? "host" : !fp->have_port ? "port"
			      : !fp->s.sender[0] ? "sender_comp_id" : !fp->s.target[0] ? "target_comp_id"
			      : !fp->s.store[0] ? "store" : NULL;
	if (missing)
		return fks_param_fail(err, NULL, "the fix44 venue needs `%s`", missing);
	if (ctx->n_instruments == 0 || ctx->n_instruments > VENUE_MAX_INSTRUMENTS)
		return fks_param_fail(err, NULL, "%u instruments: the fix44 venue trades 1..%u", ctx->n_instruments,
				      VENUE_MAX_INSTRUMENTS);
	return 0;
}

static int fix44_init(void *state, const struct venue_ctx *ctx, const struct fks_param *params, size_t n_params,
		      struct fks_param_error *err)
{
	static struct fix44_params fp;   /* large: off the stack; init runs on one thread */
	memset(&fp, 0, sizeof fp);
	fp.s.heartbeat_s = 30;
	for (size_t i = 0; i < n_params; i++)
		if (parse_param(&fp, ctx, &params[i], err) != 0)
			return -1;
	if (check_required(&fp, ctx, err) != 0)
		return -1;
	if (fp.s.tls_ca[0] && !fp.s.tls)
		return fks_param_fail(err, NULL, "tls_ca is set but tls is false");
	for (uint32_t i = 0; i < ctx->n_instruments; i++) {
		fp.inst[i].id = ctx->instrument[i];
		fp.inst[i].px_scale = ctx->px_scale[i];
		fp.inst[i].qty_scale = ctx->qty_scale[i];
		if (!fp.inst[i].symbol[0])
			snprintf(fp.inst[i].symbol, sizeof fp.inst[i].symbol, "%s", ctx->symbol[i]);
		if (!fp.inst[i].symbol[0])
			return fks_param_fail(err, NULL, "instrument %u has no symbol to send", ctx->instrument[i]);
	}
	fix_venue_init(state, &fp.s, fp.account, fp.inst, ctx->n_instruments);
	return 0;
}

static void fix44_on_order(void *state, const union fks_event *ev, venue_emit_fn emit, void *ctx)
{
	fix_venue_on_order(state, ev, emit, ctx);
}

static int fix44_poll(void *state, int64_t now_ns, venue_emit_fn emit, void *ctx)
{
	return fix_venue_poll(state, now_ns, emit, ctx);
}

static int fix44_fds(const void *state, int *fds, int max, int64_t *deadline_ns)
{
	return fix_venue_fds(state, fds, max, deadline_ns);
}

static void fix44_cancel_all(void *state, venue_emit_fn emit, void *ctx)
{
	fix_venue_cancel_all(state, emit, ctx);
}

static bool fix44_order_side(const void *state, uint64_t order_id, uint8_t *side)
{
	return fix_venue_order_side(state, order_id, side);
}

static void fix44_close(void *state)
{
	fix_venue_close(state);
}

const struct venue_vtbl fix44_venue_vtbl = {
	.type = "fix44",
	.state_size = sizeof(struct fix_venue),
	.init = fix44_init,
	.on_order = fix44_on_order,
	.poll = fix44_poll,
	.fds = fix44_fds,
	.cancel_all = fix44_cancel_all,
	.order_side = fix44_order_side,
	.close = fix44_close,
};
