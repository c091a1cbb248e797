/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sim_app.c - the open-loop request/response application of every host
 * (see sim_app.h).
 *
 * The offered load counts the link bytes of both messages of an RPC
 * (request and response, every packet's headers and framing included,
 * not grants or acks): a host starts requests at rate
 *     load * host_link_rate / (E[wire(request)] + wire(response)),
 * so with uniform destinations each host link carries that load in each
 * direction. Receive regions are mapped with MAP_NORESERVE, so only the
 * pages the core writes cost memory; after a large message has been read
 * its whole bpages are given back to the kernel (MADV_DONTNEED) so the
 * footprint follows the bytes in flight, not the largest backlog seen
 * (pages in the first resident_region_bytes of a region are kept: see
 * app_discard_pages).
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "sim_app.h"

#define SIM_APP_SERIAL_BYTES 8
#define SIM_APP_GIFT_BYTES   (256u * 1024) /* requests given to the core */
#define SIM_BPAGE_BYTES	     65536u
/* Messages with at least this many whole bpages are discarded by page. */
#define SIM_APP_DISCARD_PAGES 4

struct sim_app_sock {
	struct sim_app_host *ah;   /* owning host */
	struct homa_sock *hsk;	   /* NULL while the host is down */
	uint8_t *region;	   /* receive region (mapped once) */
	uint64_t region_bytes;	   /* its size, bytes */
	struct homa_recv_args *ra; /* recv arguments (bpages to return) */
	bool ready;		   /* woken since last drained */
	bool server;		   /* the bound server socket */
};

struct sim_app_host {
	struct sim_event arrival_ev; /* next request (first member) */
	struct sim_event ready_ev;   /* drain woken sockets */
	struct sim_app *app;	     /* owner */
	struct sim_host *host;	     /* the host */
	struct sim_app_sock cli;     /* client socket */
	struct sim_app_sock srv;     /* server socket */
	struct sim_rng rng;	     /* arrivals, sizes, destinations */
};

struct sim_app {
	struct sim_app_config cfg;   /* parameters */
	struct sim_event_queue *q;   /* engine */
	struct sim_host *hosts;	     /* hosts[0..n-1] */
	int n;			     /* hosts */
	struct sim_app_host *ah;     /* per-host state */
	struct homa_addr *addr;	     /* host addresses */
	struct sim_stats *stats;     /* slowdown samples */
	struct sim_rpc *rpcs;	     /* records by serial */
	uint64_t num_rpcs;	     /* records in use */
	uint64_t cap_rpcs;	     /* records allocated */
	uint64_t pending;	     /* records with fate PENDING */
	uint64_t measured_pending;   /* window requests unresolved */
	uint8_t *zeros;		     /* max_message_bytes of zeros */
	double mean_gap_ps;	     /* mean time between requests, ps */
	double wire_per_rpc;	     /* mean link bytes per RPC */
	bool arrivals;		     /* arrivals running */
	uint64_t win_start_ps;	     /* measurement window start */
	uint64_t win_end_ps;	     /* ... and end */
	struct sim_app_counters ctr; /* counters */
	int error;		     /* first fatal error */
};

static void app_arrival(struct sim_event *ev);
static void app_ready(struct sim_event *ev);

/* Link bytes of a message of len bytes cut into full packets. */
static double app_wire_bytes(uint32_t len, uint32_t mtu)
{
	uint32_t seg = mtu - HOMA_WIRE_IPV4_BYTES - HOMA_WIRE_DATA_BYTES;
	uint32_t full = len / seg, rem = len % seg;
	double w =
		(double)full * sim_net_wire_bytes(HOMA_WIRE_DATA_BYTES + seg);

	if (rem)
		w += sim_net_wire_bytes(HOMA_WIRE_DATA_BYTES + rem);
	return w;
}

static uint64_t app_now_ns(const struct sim_app *app)
{
	return app->q->now_ps / SIM_PS_PER_NS;
}

static void *app_map(uint64_t bytes)
{
	void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return p;
}

static void app_wake(void *ctx, struct sim_host *h, void *sock_ctx,
		     uint32_t events)
{
	struct sim_app *app = ctx;
	struct sim_app_sock *s = sock_ctx;

	(void)h;
	if (!(events & HOMA_WAKE_READABLE))
		return;
	s->ready = true;
	if (!sim_event_pending(&s->ah->ready_ev))
		sim_event_schedule(app->q, &s->ah->ready_ev, app->q->now_ps);
}

static int app_sock_init(struct sim_app_host *ah, struct sim_app_sock *s,
			 uint64_t bytes, bool server)
{
	s->ah = ah;
	s->hsk = NULL;
	s->server = server;
	s->region_bytes = bytes;
	s->region = app_map(bytes);
	s->ra = calloc(1, sizeof(*s->ra));
	return s->region && s->ra ? 0 : -ENOMEM;
}

static void app_sock_free(struct sim_app_sock *s)
{
	if (s->region)
		munmap(s->region, s->region_bytes);
	free(s->ra);
}

static int app_check_config(const struct sim_app_config *c)
{
	if (!(c->load > 0) || c->load > 10 || c->resp_bytes < 1 ||
	    c->resp_bytes > c->max_message_bytes ||
	    c->wl->max_bytes > c->max_message_bytes || c->host_bps == 0)
		return -EINVAL;
	return 0;
}

/* The request rate that offers cfg->load on each host link. */
static void app_rate(struct sim_app *app)
{
	const struct sim_workload *wl = app->cfg.wl;
	double req = 0;

	for (int i = 0; i < wl->n; i++)
		req += sim_workload_prob(wl, i) *
		       app_wire_bytes(wl->size[i], app->cfg.mtu);
	app->wire_per_rpc =
		req + app_wire_bytes(app->cfg.resp_bytes, app->cfg.mtu);
	app->mean_gap_ps = app->wire_per_rpc * 8.0 * 1e12 /
			   ((double)app->cfg.host_bps * app->cfg.load);
}

int sim_app_create(const struct sim_app_config *cfg, struct sim_event_queue *q,
		   struct sim_host *hosts, int n, struct sim_stats *stats,
		   struct sim_app **out)
{
	struct sim_app *app;
	int ret = app_check_config(cfg);

	if (ret)
		return ret;
	app = calloc(1, sizeof(*app));
	if (!app)
		return -ENOMEM;
	app->cfg = *cfg;
	app->q = q;
	app->hosts = hosts;
	app->n = n;
	app->stats = stats;
	app->win_end_ps = SIM_TIME_NEVER;
	app->ah = calloc((size_t)n, sizeof(*app->ah));
	app->addr = calloc((size_t)n, sizeof(*app->addr));
	app->zeros = app_map(cfg->max_message_bytes);
	if (!app->ah || !app->addr || !app->zeros)
		goto fail;
	app_rate(app);
	for (int i = 0; i < n; i++) {
		struct sim_app_host *ah = &app->ah[i];

		sim_event_init(&ah->arrival_ev, app_arrival);
		sim_event_init(&ah->ready_ev, app_ready);
		ah->app = app;
		ah->host = &hosts[i];
		sim_rng_seed(&ah->rng, cfg->seed, 0x100000 + (uint64_t)i);
		sim_net_addr(i, &app->addr[i]);
		if (app_sock_init(ah, &ah->cli, cfg->client_region_bytes,
				  false) ||
		    app_sock_init(ah, &ah->srv, cfg->server_region_bytes, true))
			goto fail;
		hosts[i].wake = app_wake;
		hosts[i].app = app;
	}
	*out = app;
	return 0;
fail:
	sim_app_destroy(app);
	return -ENOMEM;
}

void sim_app_destroy(struct sim_app *app)
{
	if (!app)
		return;
	for (int i = 0; app->ah && i < app->n; i++) {
		sim_event_cancel(app->q, &app->ah[i].arrival_ev);
		sim_event_cancel(app->q, &app->ah[i].ready_ev);
		app_sock_free(&app->ah[i].cli);
		app_sock_free(&app->ah[i].srv);
		app->hosts[i].wake = NULL;
	}
	if (app->zeros)
		munmap(app->zeros, app->cfg.max_message_bytes);
	free(app->ah);
	free(app->addr);
	free(app->rpcs);
	free(app);
}

/* ---- records ---- */

static struct sim_rpc *app_new_rpc(struct sim_app *app, uint64_t *serial)
{
	if (app->num_rpcs == app->cap_rpcs) {
		uint64_t cap = app->cap_rpcs ? 2 * app->cap_rpcs : 65536;
		struct sim_rpc *r = realloc(app->rpcs, cap * sizeof(*r));

		if (!r) {
			app->error = -ENOMEM;
			return NULL;
		}
		app->rpcs = r;
		app->cap_rpcs = cap;
	}
	*serial = app->num_rpcs++;
	memset(&app->rpcs[*serial], 0, sizeof(app->rpcs[0]));
	return &app->rpcs[*serial];
}

/* A pending RPC reaches its final fate. */
static void app_resolve(struct sim_app *app, struct sim_rpc *r, int fate)
{
	r->fate = (uint8_t)fate;
	r->done_ps = app->q->now_ps;
	app->pending--;
	app->ctr.fates[fate]++;
	if (r->measured && !r->deliveries) {
		app->ctr.measured_lost++;
		app->measured_pending--;
	}
}

static bool app_in_window(const struct sim_app *app, uint64_t t)
{
	return t >= app->win_start_ps && t < app->win_end_ps;
}

/* ---- client ---- */

static void app_send_request(struct sim_app *app, struct sim_app_host *ah)
{
	int src = ah->host->index;
	uint32_t size = sim_workload_sample(app->cfg.wl, &ah->rng);
	int dst = (int)sim_rng_below(&ah->rng, (uint64_t)app->n - 1);
	uint64_t serial;
	struct homa_iov iov[2];
	struct homa_send_args a;
	uint8_t *gift = NULL;
	struct sim_rpc *r;
	int ret;

	if (dst >= src)
		dst++;
	r = app_new_rpc(app, &serial);
	if (!r)
		return;
	r->send_ps = app->q->now_ps;
	r->size = size;
	r->src = (uint16_t)src;
	r->dst = (uint16_t)dst;
	r->measured = app_in_window(app, r->send_ps);
	iov[0].base = &serial;
	iov[0].bytes =
		size < SIM_APP_SERIAL_BYTES ? size : SIM_APP_SERIAL_BYTES;
	iov[1].base = app->zeros;
	iov[1].bytes = size - iov[0].bytes;
	memset(&a, 0, sizeof(a));
	a.dst = &app->addr[dst];
	a.dport = SIM_APP_SERVER_PORT;
	a.iov = iov;
	a.iov_count = iov[1].bytes ? 2 : 1;
	/* A large message is built in the host's own memory and given to
	 * the core, which then keeps it without a copy: only the serial's
	 * page is ever written, so backlogs of GBs of zeros cost no RAM. */
	if (size >= SIM_APP_GIFT_BYTES) {
		gift = sim_host_alloc(ah->host, size);
		if (gift) {
			memcpy(gift, &serial, SIM_APP_SERIAL_BYTES);
			sim_host_prefault_zeros(gift, size);
			iov[0].base = gift;
			iov[0].bytes = size;
			a.iov_count = 1;
			a.flags = HOMA_SEND_GIFT;
		}
	}
	a.cookie = serial + 1;
	app->ctr.requests++;
	app->pending++;
	if (r->measured) {
		app->ctr.measured++;
		app->measured_pending++;
	}
	ret = homa_send(ah->cli.hsk, &a, app_now_ns(app));
	if (ret < 0 && gift)
		sim_host_free(ah->host, gift, size); /* still ours */
	if (ret < 0) {
		app->ctr.send_errors++;
		app_resolve(app, r, SIM_RPC_UNSENT);
	}
}

static void app_arrival(struct sim_event *ev)
{
	struct sim_app_host *ah = (struct sim_app_host *)ev;
	struct sim_app *app = ah->app;
	double gap;

	if (!app->arrivals || !ah->host->alive)
		return;
	if (app->cfg.max_rpcs && app->num_rpcs >= app->cfg.max_rpcs)
		return;
	app_send_request(app, ah);
	sim_host_touch(ah->host);
	gap = sim_rng_exp(&ah->rng, app->mean_gap_ps);
	sim_event_schedule(app->q, &ah->arrival_ev,
			   app->q->now_ps + (uint64_t)llround(gap));
}

/* The response (or error) of one client RPC. */
static void app_on_response(struct sim_app *app, struct sim_app_host *ah,
			    int len)
{
	struct homa_recv_args *ra = ah->cli.ra;
	uint64_t serial = ra->cookie - 1;
	struct sim_rpc *r;
	uint64_t echoed = 0;

	if (ra->cookie == 0 || serial >= app->num_rpcs ||
	    app->rpcs[serial].fate != SIM_RPC_PENDING ||
	    app->rpcs[serial].src != ah->host->index) {
		app->ctr.bad_messages++;
		return;
	}
	r = &app->rpcs[serial];
	if (len < 0) {
		app_resolve(app, r,
			    len == -ETIMEDOUT ? SIM_RPC_TIMEOUT
					      : SIM_RPC_ERROR);
		return;
	}
	if (len >= SIM_APP_SERIAL_BYTES && ra->num_bpages)
		memcpy(&echoed, ah->cli.region + ra->bpage_offsets[0],
		       sizeof(echoed));
	if ((uint32_t)len != app->cfg.resp_bytes ||
	    (len >= SIM_APP_SERIAL_BYTES && echoed != serial))
		app->ctr.bad_messages++;
	if (app_in_window(app, app->q->now_ps)) {
		app->ctr.window_msg_bytes += (uint64_t)len;
		app->ctr.window_msgs++;
	}
	app_resolve(app, r, SIM_RPC_DONE);
}

static void app_collect(struct sim_app *app, struct sim_app_host *ah)
{
	struct homa_recv_args *ra = ah->cli.ra;

	for (;;) {
		int len;

		ra->id = 0;
		len = homa_recv(ah->cli.hsk, ra, app_now_ns(app));
		if (len == -EAGAIN)
			return;
		if (len < 0 && ra->id == 0) {
			app->ctr.recv_errors++;
			return;
		}
		app_on_response(app, ah, len);
	}
}

/* ---- server ---- */

/*
 * Give the whole bpages of a read message back to the kernel, except those
 * in the first keep bytes of the region: the pool prefers its lowest pages,
 * so those stay resident and are reused without new page faults, while
 * the rare deep excursions (many large messages at once) do not stay
 * resident for the rest of the run.
 */
static void app_discard_pages(struct sim_app_sock *s, int len, uint64_t keep)
{
	const struct homa_recv_args *ra = s->ra;
	uint32_t whole = (uint32_t)len / SIM_BPAGE_BYTES;
	uint32_t i = 0;

	if (whole > ra->num_bpages)
		return;
	while (i < whole) {
		uint32_t j = i + 1;

		if (ra->bpage_offsets[i] < keep) {
			i++;
			continue;
		}
		while (j < whole &&
		       ra->bpage_offsets[j] ==
			       ra->bpage_offsets[j - 1] + SIM_BPAGE_BYTES)
			j++;
		madvise(s->region + ra->bpage_offsets[i],
			(size_t)(j - i) * SIM_BPAGE_BYTES, MADV_DONTNEED);
		i = j;
	}
}

/* Account one request delivered to host's server app. */
static void app_on_request(struct sim_app *app, struct sim_app_host *ah,
			   uint64_t serial, int len)
{
	struct sim_host *h = ah->host;
	struct sim_rpc *r;

	if (serial >= app->num_rpcs || app->rpcs[serial].dst != h->index ||
	    app->rpcs[serial].size != (uint32_t)len) {
		app->ctr.bad_messages++;
		return;
	}
	r = &app->rpcs[serial];
	app->ctr.deliveries++;
	if (app_in_window(app, app->q->now_ps)) {
		app->ctr.window_msg_bytes += (uint64_t)len;
		app->ctr.window_msgs++;
	}
	if (r->deliveries) {
		if (r->server_inc == (uint16_t)h->incarnation)
			app->ctr.dup_deliveries++;
		else
			app->ctr.redeliveries++;
		if (r->deliveries < UINT8_MAX)
			r->deliveries++;
		return;
	}
	r->deliveries = 1;
	r->deliver_ps = app->q->now_ps;
	r->server_inc = (uint16_t)h->incarnation;
	if (r->measured && r->fate == SIM_RPC_PENDING) {
		sim_stats_record(app->stats, r->size,
				 r->deliver_ps - r->send_ps);
		app->ctr.measured_done++;
		app->measured_pending--;
	}
}

static void app_reply(struct sim_app *app, struct sim_app_host *ah,
		      uint64_t serial)
{
	struct homa_recv_args *ra = ah->srv.ra;
	uint32_t len = app->cfg.resp_bytes;
	struct homa_iov iov[2];
	struct homa_send_args a;

	iov[0].base = &serial;
	iov[0].bytes = len < SIM_APP_SERIAL_BYTES ? len : SIM_APP_SERIAL_BYTES;
	iov[1].base = app->zeros;
	iov[1].bytes = len - iov[0].bytes;
	memset(&a, 0, sizeof(a));
	a.dst = &ra->peer;
	a.dport = ra->peer_port;
	a.iov = iov;
	a.iov_count = iov[1].bytes ? 2 : 1;
	a.id = ra->id;
	if (homa_send(ah->srv.hsk, &a, app_now_ns(app)) < 0)
		app->ctr.reply_errors++;
}

static void app_serve(struct sim_app *app, struct sim_app_host *ah)
{
	struct homa_recv_args *ra = ah->srv.ra;

	for (;;) {
		uint64_t serial = UINT64_MAX;
		int len;

		ra->id = 0;
		len = homa_recv(ah->srv.hsk, ra, app_now_ns(app));
		if (len == -EAGAIN)
			return;
		if (len < 0) {
			app->ctr.recv_errors++;
			if (ra->id == 0)
				return;
			continue;
		}
		if (len >= SIM_APP_SERIAL_BYTES && ra->num_bpages)
			memcpy(&serial, ah->srv.region + ra->bpage_offsets[0],
			       sizeof(serial));
		app_on_request(app, ah, serial, len);
		if (len >= (int)(SIM_APP_DISCARD_PAGES * SIM_BPAGE_BYTES))
			app_discard_pages(&ah->srv, len,
					  app->cfg.resident_region_bytes);
		app_reply(app, ah, serial);
	}
}

static void app_ready(struct sim_event *ev)
{
	struct sim_app_host *ah =
		(struct sim_app_host *)((char *)ev -
					offsetof(struct sim_app_host,
						 ready_ev));
	struct sim_app *app = ah->app;

	if (!ah->host->alive)
		return;
	if (ah->srv.ready) {
		ah->srv.ready = false;
		app_serve(app, ah);
	}
	if (ah->cli.ready) {
		ah->cli.ready = false;
		app_collect(app, ah);
	}
	sim_host_touch(ah->host);
}

/* ---- hosts up and down ---- */

static int app_sock_open(struct sim_app_host *ah, struct sim_app_sock *s)
{
	struct homa *homa = ah->host->homa;
	int ret;

	s->ready = false;
	memset(s->ra, 0, sizeof(*s->ra));
	ret = homa_sock_open(homa, HOMA_FAMILY_INET, s, &s->hsk);
	if (ret)
		return ret;
	if (s->server) {
		ret = homa_sock_bind(s->hsk, SIM_APP_SERVER_PORT);
		if (ret)
			return ret;
	}
	return homa_sock_set_rcvbuf(s->hsk, s->region, s->region_bytes);
}

int sim_app_host_up(struct sim_app *app, int host)
{
	struct sim_app_host *ah = &app->ah[host];
	int ret;

	ret = app_sock_open(ah, &ah->srv);
	if (!ret)
		ret = app_sock_open(ah, &ah->cli);
	if (ret)
		return ret;
	sim_host_touch(ah->host);
	sim_app_set_arrivals(app, app->arrivals);
	return 0;
}

void sim_app_host_down(struct sim_app *app, int host)
{
	struct sim_app_host *ah = &app->ah[host];

	sim_event_cancel(app->q, &ah->arrival_ev);
	sim_event_cancel(app->q, &ah->ready_ev);
	for (uint64_t s = 0; s < app->num_rpcs; s++) {
		struct sim_rpc *r = &app->rpcs[s];

		if (r->src == host && r->fate == SIM_RPC_PENDING)
			app_resolve(app, r, SIM_RPC_CRASHED);
	}
	ah->cli.hsk = NULL;
	ah->srv.hsk = NULL;
	madvise(ah->srv.region, ah->srv.region_bytes, MADV_DONTNEED);
	madvise(ah->cli.region, ah->cli.region_bytes, MADV_DONTNEED);
}

/* ---- control and observation ---- */

void sim_app_set_arrivals(struct sim_app *app, bool on)
{
	app->arrivals = on;
	for (int i = 0; i < app->n; i++) {
		struct sim_app_host *ah = &app->ah[i];
		double gap;

		if (!on || !ah->host->alive) {
			sim_event_cancel(app->q, &ah->arrival_ev);
			continue;
		}
		if (sim_event_pending(&ah->arrival_ev))
			continue;
		gap = sim_rng_exp(&ah->rng, app->mean_gap_ps);
		sim_event_schedule(app->q, &ah->arrival_ev,
				   app->q->now_ps + (uint64_t)llround(gap));
	}
}

void sim_app_set_window(struct sim_app *app, uint64_t start_ps, uint64_t end_ps)
{
	app->win_start_ps = start_ps;
	app->win_end_ps = end_ps;
}

uint64_t sim_app_measured_pending(const struct sim_app *app)
{
	return app->measured_pending;
}

uint64_t sim_app_pending(const struct sim_app *app)
{
	return app->pending;
}

double sim_app_mean_gap_ps(const struct sim_app *app)
{
	return app->mean_gap_ps;
}

double sim_app_offered_wire_bytes(const struct sim_app *app)
{
	return app->wire_per_rpc;
}

const struct sim_app_counters *sim_app_counters(const struct sim_app *app)
{
	return &app->ctr;
}

const struct sim_rpc *sim_app_rpcs(const struct sim_app *app, uint64_t *n)
{
	*n = app->num_rpcs;
	return app->rpcs;
}

int sim_app_error(const struct sim_app *app)
{
	return app->error;
}
