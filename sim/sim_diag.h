/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_diag.h - the idle-link diagnostic of homa-sim (--idle-diag-us):
 * every period during the measurement window it looks at every host's
 * downlink (its ToR's port toward it) and uplink (its NIC) and, when one
 * is idle, records why, from the state of the cores. It only reads the
 * cores (through their internal structures, never calling them) and the
 * network, so a run with it gives the same results as one without.
 *
 * A downlink is idle for want of demand (its core manages no message
 * that needs grants), for granted bytes in flight (a sender already
 * sent them, or a GRANT is on its way), for granted bytes held by
 * senders whose uplinks are busy with other messages (the matching
 * loss of receiver-driven scheduling), for granted bytes held by a
 * sender whose uplink is idle (the pacer), or without any grant out.
 * An uplink is idle with sendable bytes (the pacer), waiting for
 * grants (split by where the message stands at its receiver), or with
 * nothing to send.
 */
#ifndef SIM_DIAG_H
#define SIM_DIAG_H

#include <stdint.h>
#include <stdio.h>

#include "sim_event.h"

enum sim_diag_down {
	SIM_DIAG_DOWN_BUSY = 0,	     /* transmitting or holding packets */
	SIM_DIAG_DOWN_NO_DEMAND = 1, /* no message needing grants */
	SIM_DIAG_DOWN_IN_FLIGHT = 2, /* granted bytes sent or GRANT en route */
	SIM_DIAG_DOWN_HELD_BUSY = 3, /* granted bytes held, holders busy */
	SIM_DIAG_DOWN_HELD_IDLE = 4, /* granted bytes held, a holder idle */
	SIM_DIAG_DOWN_NO_GRANT = 5,  /* messages, but no grant outstanding */
	SIM_DIAG_DOWN_KINDS = 6,
};

enum sim_diag_up {
	SIM_DIAG_UP_BUSY = 0,	   /* transmitting or holding packets */
	SIM_DIAG_UP_SENDABLE = 1,  /* granted bytes on the pacer's list */
	SIM_DIAG_UP_GRANT_WAY = 2, /* waiting; a GRANT is on its way */
	SIM_DIAG_UP_AT_BUSY = 3,   /* waiting; granted bytes sent to a
				    * receiver whose downlink is busy */
	SIM_DIAG_UP_OTHER = 4,	   /* waiting for grants, otherwise */
	SIM_DIAG_UP_NOTHING = 5,   /* no message with unsent bytes */
	SIM_DIAG_UP_KINDS = 6,
};

struct sim_run;

/* Counters of the diagnostic; samples count (host, instant) pairs. */
struct sim_diag {
	struct sim_event ev;		    /* next sample (first member) */
	struct sim_run *run;		    /* owner */
	uint64_t period_ps;		    /* sampling period, ps; 0 = off */
	uint64_t samples;		    /* host samples taken */
	uint64_t down[SIM_DIAG_DOWN_KINDS]; /* downlink samples by kind */
	uint64_t up[SIM_DIAG_UP_KINDS];	    /* uplink samples by kind */
	uint64_t idle_managed; /* sum of managed messages, idle with demand */
	uint64_t idle_unannounced; /* idle downlink samples with a message
				    * for it whose unscheduled bytes still
				    * wait at its sender */
	uint64_t holders;	   /* busy holders seen in HELD_BUSY samples */
	uint64_t holders_queued;   /* of which the downlink they are sending
				  * to holds >= 10000 bytes */
};

/* sim_diag_start() - sample every period_ps from now until the end of
 * the measurement window (nothing if period_ps is 0). */
void sim_diag_start(struct sim_diag *d, struct sim_run *run,
		    uint64_t period_ps);
/* sim_diag_stop() - cancel the pending sample. */
void sim_diag_stop(struct sim_diag *d);
/* sim_diag_text() / sim_diag_json() - the results (nothing if off); the
 * JSON is one member, "idle_diag", followed by a comma. */
void sim_diag_text(const struct sim_diag *d, FILE *f);
void sim_diag_json(const struct sim_diag *d, FILE *f);

#endif /* SIM_DIAG_H */
