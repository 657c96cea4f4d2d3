/*
 * A FIX 4.4 initiator session over one non-blocking TCP connection, driven
 * from outside: fix_session_poll reads, handles and fires timers, and
 * fix_session_fd / fix_session_deadline say what to wait for.  Nothing
 * here blocks, and nothing allocates after fix_session_init except
 * OpenSSL, once per TLS connection.
 *
 * What it does (FIX Transport 1.1 session rules, for an initiator):
 *  - connects (re-connects after a loss with back-off from
 *    FIX_RECONNECT_MIN_NS doubling to FIX_RECONNECT_MAX_NS) and logs on
 *    with HeartBtInt, and ResetSeqNumFlag only when configured;
 *  - numbers every message, keeping next_out and next_in in the store
 *    (fix_store.h), so a restart continues the sequence;
 *  - sends a Heartbeat after a quiet HeartBtInt, a TestRequest after a
 *    silent HeartBtInt plus 20%, and drops the connection when that is
 *    not answered within one more HeartBtInt;
 *  - a MsgSeqNum above the expected one sends one ResendRequest for the
 *    gap (the message is not processed: it comes again in the resend);
 *    below it without PossDupFlag=Y ends the session with a Logout, as the
 *    standard says; with PossDupFlag=Y it is a duplicate, dropped;
 *  - answers a ResendRequest with the application messages still in the
 *    store, each with PossDupFlag=Y and OrigSendingTime, and a
 *    SequenceReset-GapFill over every run of admin (or no longer kept)
 *    messages;
 *  - takes SequenceReset in both modes, answers TestRequest, and Logout;
 *  - with cfg.tls, runs TLS 1.2 or newer over the connection (OpenSSL,
 *    non-blocking handshake), verifying the peer's certificate against
 *    cfg.tls_ca (or the system's anchors) for cfg.host, a name or an IP.
 * Application messages (and session Rejects, which name one of ours) go
 * to the on_app callback once their number has been accounted for.
 *
 * Wall-clock time (SendingTime) and the monotonic clock for the timers are
 * read here: a session cannot run without them.
 */
#ifndef FKS_GATEWAY_VENUES_FIX44_FIX_SESSION_H
#define FKS_GATEWAY_VENUES_FIX44_FIX_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gateway/venues/fix44/fix_codec.h"
#include "gateway/venues/fix44/fix_store.h"

#define FIX_HOST_MAX 128
#define FIX_PATH_MAX 256
#define FIX_IN_BUF (64 * 1024)
#define FIX_OUT_BUF (256 * 1024)
#define FIX_RECONNECT_MIN_NS 100000000LL     /* 100 ms */
#define FIX_RECONNECT_MAX_NS 10000000000LL   /* 10 s */
#define FIX_LOGOUT_WAIT_NS 2000000000LL      /* 2 s */

struct fix_session_cfg {
	char host[FIX_HOST_MAX];     /* an IPv4 or IPv6 literal, or a name */
	uint16_t port;
	char sender[FIX_COMP_ID_MAX], target[FIX_COMP_ID_MAX];
	uint32_t heartbeat_s;        /* HeartBtInt, 1..3600 */
	char store[FIX_PATH_MAX];    /* the store file (fix_store.h) */
	bool reset_seq;              /* ResetSeqNumFlag=Y at every logon */
	bool tls;                    /* TLS 1.2+ over the TCP connection */
	char tls_ca[FIX_PATH_MAX];   /* trust anchors (PEM); "": the system's */
};

enum fix_session_state {
	FIX_ST_DOWN = 0,             /* waiting to connect (back-off) */
	FIX_ST_CONNECTING = 1,       /* non-blocking connect in progress */
	FIX_ST_LOGON_SENT = 2,
	FIX_ST_ACTIVE = 3,           /* logged on both ways */
	FIX_ST_LOGOUT_SENT = 4,
	FIX_ST_FAILED = 5,           /* the store (or the TLS set-up) failed: never connects */
	FIX_ST_TLS = 6,              /* TLS handshake in progress */
};

/* Why a connection ended; counters by reason. */
enum fix_drop_reason {
	FIX_DROP_CONNECT = 0,        /* connect failed */
	FIX_DROP_PEER_CLOSED = 1,    /* EOF or a socket error */
	FIX_DROP_HEARTBEAT = 2,      /* TestRequest not answered */
	FIX_DROP_SEQ_TOO_LOW = 3,    /* a MsgSeqNum below the expected, not a PossDup */
	FIX_DROP_LOGOUT = 4,         /* a Logout, theirs or ours */
	FIX_DROP_LOGON_REFUSED = 5,  /* the first message was not a Logon, or logon timed out */
	FIX_DROP_BAD_COMP_ID = 6,    /* SenderCompID / TargetCompID not this session's */
	FIX_DROP_OUT_FULL = 7,       /* the send buffer filled: the peer does not read */
	FIX_DROP_TLS = 8,            /* handshake (certificate) or record error */
	FIX_DROP_COUNT
};

struct fix_session_counters {
	uint64_t connects, logons, losses;  /* losses: ACTIVE sessions that ended */
	uint64_t drops[FIX_DROP_COUNT];
	uint64_t sent, received;            /* messages */
	uint64_t heartbeats_sent, test_requests_sent;
	uint64_t resend_requests_sent, resend_requests_received;
	uint64_t resent, gap_fills_sent, gap_fills_received;
	uint64_t possdup_dropped;           /* PossDup duplicates below next_in */
	uint64_t rejects_received;          /* session-level Reject (35=3) */
	uint64_t send_failed;               /* app messages refused: not ACTIVE or too long */
	uint64_t left_for_resend;           /* app messages met while closing, left for the next session */
};

/* An application message (or a session Reject) for the venue. */
typedef void (*fix_app_fn)(void *ctx, const struct fix_msg *m);

struct fix_session {
	struct fix_session_cfg cfg;
	uint8_t state;                      /* enum fix_session_state */
	int fd;                             /* -1 when not connected */
	struct ssl_ctx_st *tls_ctx;         /* SSL_CTX, made at the first poll when cfg.tls */
	struct ssl_st *ssl;                 /* SSL of the connection, or NULL */
	struct fix_store store;
	char store_err[160];                /* why FIX_ST_FAILED */
	fix_app_fn on_app;
	void *app_ctx;
	int64_t next_connect_ns, backoff_ns;
	int64_t last_in_ns, last_out_ns;    /* monotonic */
	int64_t test_request_ns;            /* when the TestRequest went; 0: none out */
	int64_t logon_sent_ns;
	int64_t app_sending_ns;             /* SendingTime of the app message being written */
	int64_t recheck_ns;                 /* a connect, a handshake or unsent bytes: look again then */
	uint64_t test_req_id;
	uint64_t resend_until;              /* a ResendRequest is out up to this seq; 0: none */
	bool lost;                          /* an ACTIVE session ended since the last take */
	bool closing;                       /* fix_session_close: an end, not a loss */
	bool held;                          /* closing met an app message: read no further */
	size_t in_len, out_len;
	struct fix_session_counters c;
	struct fix_decode_counters decode;
	struct fix_msg msg;
	char scratch[FIX_MAX_MSG];
	char in[FIX_IN_BUF];
	char out[FIX_OUT_BUF];
};

/* Set up s; no socket and no file yet (the first poll opens the store and
 * connects).  on_app gets application messages. */
void fix_session_init(struct fix_session *s, const struct fix_session_cfg *cfg, fix_app_fn on_app, void *ctx);
/* Read, handle, fire timers, connect: all that is due at now_ns
 * (monotonic). */
void fix_session_poll(struct fix_session *s, int64_t now_ns);
/* The descriptor to wait on (readable), -1 for none, and the next timer. */
int fix_session_fd(const struct fix_session *s);
int64_t fix_session_deadline(const struct fix_session *s);
/* True once after an ACTIVE session was lost (then cleared). */
bool fix_session_take_lost(struct fix_session *s);
bool fix_session_active(const struct fix_session *s);

/* An application message: begin writes its standard header into the
 * scratch buffer and returns the writer for its body fields (NULL when the
 * session is not ACTIVE); send numbers it, keeps it for resends and sends
 * it, returning its MsgSeqNum, or 0 (counted in send_failed) when it does
 * not fit. */
struct fix_writer *fix_session_begin(struct fix_session *s, const char *type, struct fix_writer *w,
				     size_t *body_at);
uint64_t fix_session_send(struct fix_session *s, struct fix_writer *w, const char *type, size_t body_at);

/* Logout, wait (up to FIX_LOGOUT_WAIT_NS) for the counterparty's Logout,
 * so both sides' numbers agree, and close: the clean end of a run.  It
 * delivers nothing: an application message that arrives first is left
 * unnumbered (the next session's ResendRequest brings it again) and the
 * wait ends there. */
void fix_session_close(struct fix_session *s);

const char *fix_drop_reason_name(unsigned r);

#endif
