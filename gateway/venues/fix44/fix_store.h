/*
 * The FIX session's store: the next sequence numbers both ways, and the
 * application messages sent, for resends, in one file mapped into memory.
 *
 * Why a mapped file and not LMDB: the store is written on every message,
 * on the order path, and holds two numbers and a ring of recent messages.
 * A MAP_SHARED write is a store to memory, with no syscall; the kernel
 * owns the dirty pages from that moment, so they survive the death of the
 * process (kill -9, a crash), which is the restart the sequence numbers
 * must survive.  fix_store_sync (msync) runs at logon, logout and close;
 * a power loss between two syncs can lose the latest numbers, and the
 * session then learns the right ones from the counterparty (a too-low
 * MsgSeqNum Logout names what it expects; see docs/venues-fix.md).
 *
 * Layout: a header (magic, version, the CompIDs it belongs to, next_out,
 * next_in) and FIX_STORE_SLOTS slots; the message with sequence number n
 * lives in slot n % FIX_STORE_SLOTS while it is among the last
 * FIX_STORE_SLOTS sent.  A slot holds the message type, its SendingTime
 * and its body after the standard header, so a resend rebuilds the header
 * (PossDupFlag, OrigSendingTime) around the same body.
 */
#ifndef FKS_GATEWAY_VENUES_FIX44_FIX_STORE_H
#define FKS_GATEWAY_VENUES_FIX44_FIX_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIX_STORE_SLOTS 4096
#define FIX_STORE_BODY_MAX 1000
#define FIX_COMP_ID_MAX 32

struct fix_store_slot {
	uint64_t seq;                 /* 0: empty */
	int64_t sending_time_ns;      /* unix ns */
	char type[4];
	uint32_t len;
	char body[FIX_STORE_BODY_MAX];
};

struct fix_store_file {
	char magic[8];                /* "FKSFIX44" */
	uint32_t version, slots;
	char sender[FIX_COMP_ID_MAX], target[FIX_COMP_ID_MAX];
	uint64_t next_out, next_in;   /* both start at 1 */
	uint8_t pad[48];
	struct fix_store_slot slot[FIX_STORE_SLOTS];
};

struct fix_store {
	struct fix_store_file *f;     /* mapped; NULL when closed */
};

/* Open (or create, mode 0600) the store at path for this session.  0, or
 * -1 with a sentence in err: the file is not a store, is of another
 * version, or belongs to other CompIDs (a store is one session's). */
int fix_store_open(struct fix_store *s, const char *path, const char *sender, const char *target, char *err,
		   size_t errlen);
void fix_store_close(struct fix_store *s);
void fix_store_sync(struct fix_store *s);
/* Both numbers back to 1 and every slot emptied: a configured reset. */
void fix_store_reset(struct fix_store *s);

/* Keep the application message numbered seq for resends; a body too long
 * for a slot is not kept (a resend gap-fills it). */
void fix_store_put(struct fix_store *s, uint64_t seq, const char *type, int64_t sending_time_ns, const char *body,
		   size_t len);
/* The kept message numbered seq, or NULL. */
const struct fix_store_slot *fix_store_get(const struct fix_store *s, uint64_t seq);

#endif
