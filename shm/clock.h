/*
 * The one clock header: every stage reads time through these two functions,
 * so there is exactly one answer to "which clock stamps what".
 *
 *  - clock_mono_ns(): CLOCK_MONOTONIC, ns since an arbitrary boot-relative
 *    origin.  Use it for receive times (fks_event_hdr.recv_time_ns, the local
 *    time at which an input arrived), for durations, deadlines, timeouts and
 *    latency histograms.  It never jumps when NTP or an operator sets the
 *    date, so a difference of two readings is always a true elapsed time; its
 *    values mean nothing across machines or reboots.
 *
 *  - clock_real_ns(): CLOCK_REALTIME, ns since the Unix epoch (UTC).  Use it
 *    only where a wall time is the point: event times we originate ourselves
 *    (fks_event_hdr.event_time_ns when no venue time exists), creation stamps
 *    in segments and journal metadata, and anything a person reads as a date.
 *    It can step backwards, so never subtract two readings to time something.
 *
 * Both are vDSO calls on Linux x86-64 (no syscall), cheap enough for the hot
 * path.  Neither can fail for these clock ids, so neither returns a status.
 * Both are thread-safe and async-signal-safe.
 */
#ifndef FKS_SHM_CLOCK_H
#define FKS_SHM_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_SEC 1000000000ll

static inline int64_t clock_ns_of(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * CLOCK_NS_PER_SEC + (int64_t)ts.tv_nsec;
}

/* Monotonic ns: receive times, durations, deadlines. */
static inline int64_t clock_mono_ns(void)
{
	return clock_ns_of(CLOCK_MONOTONIC);
}

/* Wall-clock ns since the Unix epoch: event and creation (date) times. */
static inline int64_t clock_real_ns(void)
{
	return clock_ns_of(CLOCK_REALTIME);
}

#endif
