/*
 * The FIX 4.4 venue behind gateway/venue.h (`venue.type: fix44`).
 * Parameters, checked by init, each refusal naming its key:
 *   host            the counterparty's address or name        (required)
 *   port            1..65535                                   (required)
 *   sender_comp_id  SenderCompID(49), 1..31 printable chars    (required)
 *   target_comp_id  TargetCompID(56), likewise                 (required)
 *   store           the session store file (fix_store.h)       (required)
 *   heartbeat_s     HeartBtInt, 1..3600                        (default 30)
 *   account         Account(1) on every order, 1..31 chars     (default none)
 *   reset_seq       true | false: ResetSeqNumFlag at logon     (default false)
 *   tls             true | false: TLS 1.2+ to the counterparty (default false)
 *   tls_ca          trust anchors (PEM file) for tls           (default: the system's)
 *   symbol.<SYM>    the venue's name for the instrument SYM    (default SYM)
 * Its state is a struct fix_venue (fix_venue.h).  init connects to
 * nothing and opens no file (the config check runs it): the first poll
 * opens the store and connects.
 */
#ifndef FKS_GATEWAY_VENUES_FIX44_FIX44_OPS_H
#define FKS_GATEWAY_VENUES_FIX44_FIX44_OPS_H

#include "gateway/venue.h"

extern const struct venue_vtbl fix44_venue_vtbl;

#endif
