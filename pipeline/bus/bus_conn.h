/*
 * A connection to NATS JetStream from the bus section of a config (or a
 * nats:// address given on the command line), the event stream, and where
 * the stream's last message stands in the journal.
 *
 * Credentials never come from the config: a creds_file (a NATS .creds
 * file, which must be of mode 0600), else FKS_NATS_TOKEN, else
 * FKS_NATS_USER with FKS_NATS_PASSWORD from the environment, else none.
 * Connecting fails fast (a 2 s timeout) instead of blocking: callers that
 * must not stop (the publisher) retry with their own back-off.
 */
#ifndef FKS_PIPELINE_BUS_CONN_H
#define FKS_PIPELINE_BUS_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "pipeline/bus/bus_wire.h"
#include "pipeline/config/config.h"

struct bus_conn {
	natsConnection *nc;
	jsCtx *js;
};

/* Connect to b->url (a comma-separated list), with jo's JetStream options
 * (NULL: the defaults).  reconnect: libnats reconnects by itself after a
 * disconnection; without, the connection closes and the caller reconnects
 * (the publisher does, so that nothing is left in flight across it).
 * 0, or -1 with err. */
int bus_connect(const struct fks_bus_cfg *b, const jsOptions *jo, bool reconnect, struct bus_conn *c, char *err,
		size_t errlen);
void bus_disconnect(struct bus_conn *c);
/* Still (or again) connected. */
bool bus_connected(const struct bus_conn *c);

/* Create b->stream (the subjects of bus_stream_subjects, file storage, b->replicas,
 * b->max_age_ns, a 2-minute duplicate window) when it does not exist;
 * an existing stream is used as it is.  *last_seq is its last stream
 * sequence.  0, or -1 with err. */
int bus_ensure_stream(struct bus_conn *c, const struct fks_bus_cfg *b, uint64_t *last_seq, char *err,
		      size_t errlen);

/* The last message of the stream (the one writer's latest), as a run and
 * journal sequence: run "" when the stream holds nothing of ours (empty,
 * aged out, foreign), seq 0 for a run's metadata message.  0, or -1 with err. */
int bus_stream_tail(struct bus_conn *c, const char *stream, char run[BUS_RUN_MAX], uint64_t *seq,
		    uint64_t *stream_seq, char *err, size_t errlen);

/*
 * A remote address: "nats://HOST:PORT[,nats://...][?stream=S&prefix=P&run=R]"
 * (tls:// for TLS) into b (url, tls, stream, subjects_prefix; the rest
 * default) and run ("" when not given: the stream's latest run).
 * 0, or -1 with err.
 */
int bus_parse_remote(const char *text, struct fks_bus_cfg *b, char run[BUS_RUN_MAX], char *err, size_t errlen);
bool bus_is_remote(const char *text);

/* "nats: <status text>[: <last error>]" into err. */
void bus_nats_error(char *err, size_t errlen, const char *what, natsStatus s);

#endif
