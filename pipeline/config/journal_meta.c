/*
 * A journal's run metadata from a loaded config.  Here, not in
 * pipeline/journal/, because the journal knows nothing of the config: it
 * stores the text and the symbol table it is given.
 */
#include "pipeline/config/config.h"
#include "shm/clock.h"

#include <string.h>
#include <stdio.h>
#include <unistd.h>

void journal_meta_from_config(struct journal_meta *meta, const struct fks_config *cfg,
			      const char *fks_version)
{
	memset(meta, 0, sizeof *meta);
	snprintf(meta->fks_version, sizeof meta->fks_version, "%s", fks_version ? fks_version : "");
	if (gethostname(meta->host, sizeof meta->host - 1))
		meta->host[0] = 0;
	meta->start_time_ns = clock_real_ns();
	meta->sync = cfg->journal.sync;
	meta->n_symbols = cfg->n_instruments < JOURNAL_SYMBOLS_MAX ? cfg->n_instruments : JOURNAL_SYMBOLS_MAX;
	for (uint32_t i = 0; i < meta->n_symbols; i++) {
		const struct fks_instrument_cfg *in = &cfg->instrument[i];
		struct journal_symbol *s = &meta->symbol[i];
		s->id = in->id;
		memcpy(s->symbol, in->symbol, FKS_SYMBOL_MAX);
		s->symbol[FKS_SYMBOL_MAX - 1] = 0;
		s->px_scale = in->px_scale;
		s->qty_scale = in->qty_scale;
	}
	meta->config_len = cfg->text_len <= FKS_CONFIG_TEXT_MAX ? cfg->text_len : FKS_CONFIG_TEXT_MAX;
	memcpy(meta->config, cfg->text, meta->config_len);
	meta->config[meta->config_len] = 0;
}

