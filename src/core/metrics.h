/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * metrics.h - the core's counters. Every drop, error path and unusual event
 * increments one named counter here; hosts read them as name/value pairs.
 * The lists below are the single definition of every counter's name and
 * description, for the core, the library (homa_metrics_read, the live
 * metrics of metrics_shm.c, HOMA_PRINT_METRICS), the tool homa-metrics and
 * the documentation (docs/metrics.md is generated from them).
 */
#ifndef HOMA_CORE_METRICS_H
#define HOMA_CORE_METRICS_H

#include <stdint.h>

/* X(name, comment). Packet counters by type come first, in type order. */
#define HOMA_METRICS_LIST(X)                                                   \
	X(sent_data, "DATA packets transmitted (incl. retransmissions)")       \
	X(sent_grant, "GRANT packets transmitted")                             \
	X(sent_resend, "RESEND packets transmitted")                           \
	X(sent_rpc_unknown, "RPC_UNKNOWN packets transmitted")                 \
	X(sent_busy, "BUSY packets transmitted")                               \
	X(sent_cutoffs, "CUTOFFS packets transmitted")                         \
	X(sent_freeze, "FREEZE packets transmitted (never)")                   \
	X(sent_need_ack, "NEED_ACK packets transmitted")                       \
	X(sent_ack, "ACK packets transmitted")                                 \
	X(recv_data, "DATA packets received and decoded")                      \
	X(recv_grant, "GRANT packets received and decoded")                    \
	X(recv_resend, "RESEND packets received and decoded")                  \
	X(recv_rpc_unknown, "RPC_UNKNOWN packets received and decoded")        \
	X(recv_busy, "BUSY packets received and decoded")                      \
	X(recv_cutoffs, "CUTOFFS packets received and decoded")                \
	X(recv_freeze, "FREEZE packets received (ignored)")                    \
	X(recv_need_ack, "NEED_ACK packets received and decoded")              \
	X(recv_ack, "ACK packets received and decoded")                        \
	X(drop_short, "drops: shorter than the common header")                 \
	X(drop_bad_type, "drops: unknown packet type")                         \
	X(drop_short_type, "drops: shorter than the type's header")            \
	X(drop_bad_msg_len, "drops: DATA message_length 0 or too large")       \
	X(drop_data_range, "drops: DATA offset/payload beyond message")        \
	X(drop_no_socket, "drops: no socket on the destination port")          \
	X(drop_not_server, "drops: request to a socket not in server mode")    \
	X(drop_unknown_rpc, "drops: packet for an RPC that does not exist")    \
	X(drop_bad_id, "drops: id parity wrong for the packet type")           \
	X(drop_wrong_state, "drops: packet not valid in the RPC's state")      \
	X(drop_length_mismatch, "drops: DATA length differs from the message") \
	X(drop_dup_data, "drops: DATA already received (duplicate)")           \
	X(drop_stale_request, "drops: DATA of a request completed lately")     \
	X(drop_overlap_data, "drops: DATA partially overlapping a gap edge")   \
	X(drop_gap_limit, "drops: DATA would exceed the gap-list bound")       \
	X(drop_no_bufs, "drops: DATA for a message stalled on buffers")        \
	X(drop_no_region, "drops: request to a socket without buffers")        \
	X(drop_rpc_limit, "drops: new server RPC over the RPC limit")          \
	X(drop_no_memory, "drops: allocation failed for a packet")             \
	X(drop_bad_ack, "drops: ack naming no known server RPC")               \
	X(client_requests_started, "requests sent by clients")                 \
	X(client_responses_done, "responses delivered to clients")             \
	X(server_requests_received, "requests delivered to servers")           \
	X(server_responses_started, "responses sent by servers")               \
	X(server_rpcs_acked, "server RPCs ended by an ack")                    \
	X(msg_bytes_sent, "message bytes sent (first transmissions)")          \
	X(msg_bytes_received, "message bytes received (accepted)")             \
	X(resent_packets, "DATA packets retransmitted for RESEND/UNKNOWN")     \
	X(resent_bytes, "message bytes in those retransmitted packets")        \
	X(tx_chunk_copies, "chunks of large messages copied in by the host")   \
	X(tx_caller_bytes, "message bytes sent from the host's own buffer")    \
	X(tx_lent_msgs, "lent requests ended (HOMA_SENDMSG_NOCOPY)")           \
	X(tx_copy_skipped_bytes, "message bytes never copied in (not needed)") \
	X(resend_requests, "retransmission requests issued (RESEND)")          \
	X(client_restarts, "requests restarted after RPC_UNKNOWN")             \
	X(rpc_timeouts, "client RPCs ended with ETIMEDOUT")                    \
	X(server_rpc_timeouts, "server RPCs ended by silence")                 \
	X(server_ack_timeouts, "server RPCs ended waiting for an ack")         \
	X(server_rpcs_overdue, "server RPCs in service over overdue_ticks")    \
	X(server_rpc_evictions, "stale server RPCs ended at the RPC limit")    \
	X(rpc_aborts, "client RPCs aborted by the application")                \
	X(icmp_errors, "RPCs ended by an ICMP error")                          \
	X(recv_odd_doff,                                                       \
	  "packets accepted with an unusual doff (old kernels)")               \
	X(grants_sent, "grants issued (normal)")                               \
	X(fifo_grants, "grants issued to the oldest message")                  \
	X(grant_bytes, "bytes granted")                                        \
	X(grant_needy, "grant checks deferred for lack of incoming room")      \
	X(nudges_sent, "nudges: GRANTs repeating an offset, receiver idle")    \
	X(nudges_received, "nudges received (GRANT repeating the offset)")     \
	X(pacer_packets, "DATA packets sent by the pacer")                     \
	X(pacer_bytes, "DATA bytes sent by the pacer")                         \
	X(pacer_fifo_picks, "pacer picks of the oldest message")               \
	X(throttled_msgs, "messages put on the pacer's list")                  \
	X(pool_stalls, "messages stalled waiting for receive buffers")         \
	X(pool_resumes, "stalled messages given buffers and resumed")          \
	X(peer_allocs, "peer records created")                                 \
	X(peer_evictions, "peer records evicted when idle")                    \
	X(peer_limit, "peer creations refused at the hard limit")              \
	X(ack_overflows, "ACK packets sent because an ack list was full")      \
	X(cutoffs_computed, "automatic cutoff recomputations applied")         \
	X(cutoffs_updates, "peer cutoffs learned from CUTOFFS packets")        \
	X(reaped_rpcs, "dead RPCs whose memory was reclaimed")                 \
	X(wmem_blocked, "sends refused for outgoing memory (EAGAIN)")          \
	X(place_hits, "DATA packets received in place in the pool (no copy)")  \
	X(place_misses, "packets read into a reserved place, copied after")    \
	X(place_peek_redone,                                                   \
	  "reservations redone after a peek at the next packet")               \
	X(drop_placing, "drops: DATA for bytes reserved for in-place receive")

/* The library's datapath counters (src/net, struct homa_dp), which
 * homa_metrics_read reports after the core's. */
#define HOMA_DP_METRICS_LIST(X)                                                \
	X(dp_tx_packets, "packets handed to the kernel to send")               \
	X(dp_tx_calls, "system calls made to send")                            \
	X(dp_tx_errors, "packets the kernel refused to send (lost)")           \
	X(dp_rx_packets, "packets read from the kernel")                       \
	X(dp_rx_calls, "system calls made to receive")                         \
	X(dp_rx_filtered,                                                      \
	  "packets or ICMP errors read for no port of ours (raw)")             \
	X(dp_tx_merged, "GRANTs replaced before sending by a later one")       \
	X(dp_rx_gro_bufs,                                                      \
	  "coalesced UDP_GRO receive buffers split in packets")                \
	X(dp_rx_gro_bad, "drops: malformed coalesced UDP_GRO buffers")         \
	X(dp_rx_bad_csum, "drops: bad checksum (HOMA_VERIFY_CSUM=1)")          \
	X(dp_rx_wakes,                                                         \
	  "zero-length UDP datagrams read: wake-ups of a poller asleep in "    \
	  "its socket (never Homa packets)")

/* Gauges: the instance's state at one moment (struct homa_usage), which
 * the live metrics publish beside the counters. */
#define HOMA_GAUGES_LIST(X)                                                    \
	X(sockets, "open Homa sockets (gauge)")                                \
	X(rpcs, "live RPCs, any state (gauge)")                                \
	X(peers, "peer records (gauge)")                                       \
	X(pool_pages_used, "receive-pool bpages in use, all sockets (gauge)")  \
	X(pool_bytes, "receive-pool bytes registered, all sockets (gauge)")    \
	X(tx_bytes, "bytes of outgoing messages held (gauge)")                 \
	X(alloc_bytes, "bytes allocated by the core (gauge)")                  \
	X(grantable, "messages in the grant scheduler (gauge)")                \
	X(throttled, "messages on the pacer's list: its backlog (gauge)")

enum homa_metric {
#define HOMA_METRIC_ENUM(name, comment) HOMA_M_##name,
	HOMA_METRICS_LIST(HOMA_METRIC_ENUM)
#undef HOMA_METRIC_ENUM
		HOMA_METRIC_COUNT
};

/* Indexes of the whole table: core counters, datapath counters, gauges. */
enum homa_metric_all {
	HOMA_MA_BEFORE_DP = HOMA_METRIC_COUNT - 1,
#define HOMA_METRIC_ENUM(name, comment) HOMA_MA_##name,
	HOMA_DP_METRICS_LIST(HOMA_METRIC_ENUM)
#undef HOMA_METRIC_ENUM
		HOMA_METRIC_COUNTERS, /* core + datapath counters */
	HOMA_MA_BEFORE_GAUGES = HOMA_METRIC_COUNTERS - 1,
#define HOMA_METRIC_ENUM(name, comment) HOMA_MA_##name,
	HOMA_GAUGES_LIST(HOMA_METRIC_ENUM)
#undef HOMA_METRIC_ENUM
		HOMA_METRIC_ALL /* every entry of the table */
};

struct homa_metrics {
	uint64_t v[HOMA_METRIC_COUNT]; /* counts since the instance began */
};

/* homa_metrics_name() - "sent_data", ...: the name of entry metric of the
 * whole table (0 .. HOMA_METRIC_ALL-1); NULL if out of range. */
const char *homa_metrics_name(int metric);
/* homa_metrics_comment() - the one-line description of an entry. */
const char *homa_metrics_comment(int metric);
/* homa_metrics_index() - the entry named name, or -1. */
int homa_metrics_index(const char *name);
/* homa_metrics_unusual() - true for an entry that counts trouble (drops,
 * timeouts, retransmissions, refusals): worth a look when nonzero. */
int homa_metrics_unusual(int metric);

#endif /* HOMA_CORE_METRICS_H */
