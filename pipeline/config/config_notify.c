/*
 * The notify section (config.h, struct fks_notify_cfg): each target's name
 * unique, its URL from exactly one of url_env and url_file; and, for a run
 * (config_load_to_run), that URL readable now and acceptable, so a target
 * that could never page anyone stops the run before it starts rather than
 * at 3 a.m. when the kill switch trips.
 */
#include "pipeline/config/config_int.h"

#include "pipeline/notify/notify_url.h"
#include "feeds/net/secret.h"

static bool name_ok(const char *s)
{
	if (!s[0])
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

int cfg_check_notify(struct loader *ld, const struct fks_config *cfg)
{
	const struct fks_notify_cfg *n = &cfg->notify;
	for (uint32_t i = 0; i < n->n_targets; i++) {
		const struct fks_notify_target_cfg *t = &n->target[i];
		if (!name_ok(t->name))
			return cfg_fail_field(ld, t->name, "a target name is 1 to %d characters of [A-Za-z0-9_.-]",
					      FKS_NOTIFY_NAME_MAX - 1);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(n->target[j].name, t->name))
				return cfg_fail_field(ld, t->name, "target \"%s\" is named twice", t->name);
		if (!t->url_env[0] == !t->url_file[0])
			return cfg_fail_field(ld, t->name,
					      "target \"%s\" needs exactly one of url_env (an environment variable) "
					      "and url_file (a 0600 file) to hold its webhook URL", t->name);
	}
	return 0;
}

int cfg_check_notify_host(struct loader *ld, const struct fks_config *cfg)
{
	for (uint32_t i = 0; i < cfg->notify.n_targets; i++) {
		const struct fks_notify_target_cfg *t = &cfg->notify.target[i];
		char url[NOTIFY_URL_MAX], why[FKS_CONFIG_PATH_MAX + 128];
		int rc = notify_url_read(t, url, sizeof url, why, sizeof why);
		secret_wipe(url, sizeof url);
		if (rc)
			return cfg_fail_field(ld, t->url_env[0] ? (const void *)t->url_env : t->url_file,
					      "notify target \"%s\": %s", t->name, why);
	}
	return 0;
}
