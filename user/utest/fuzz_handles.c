/*
 * handle_fuzz: random handle operations, the handle side of syscall_fuzz
 * (whose calls only ever name handles that are not ours: fuzz_calls.c).
 *
 * A child process (role_hfuzz) runs workers on every CPU, each with a
 * shadow of the handles it holds ({handle, type, rights, object id}), and
 * a peer process (role_hfuzz_peer) serving a shared endpoint. Operations,
 * drawn at random:
 *   create     an endpoint or a memory object of 1-4 pages
 *   dup        with a random subset of rights (sometimes a right not held:
 *              -EACCES), or without R_DUP (-EACCES); the result's rights
 *              are exactly the subset
 *   close      a live handle, or one closed before (-EBADF)
 *   info       type and rights as the shadow says
 *   transfer   one or two handles in a message to the peer, moved or
 *              copied, rights narrowed at random; a moved handle is gone
 *              once the call returns, a copy stays; the peer closes,
 *              keeps or maps (and unmaps) what it gets, and sometimes
 *              moves a kept handle back in its reply
 *   map        a memory object, as its rights allow (-EACCES otherwise);
 *              objects no other handle names are touched, which allocates
 *              their pages
 *   revoke     a memory object while it is mapped here and perhaps in the
 *              peer (MO_DECOMMIT or not; -EACCES without R_REVOKE)
 *   kill peer  now and then a worker kills the peer and starts another:
 *              whatever it held, and the handles of queued calls (in
 *              flight), must be released
 * Afterwards (the child and its peer gone) frames, heap, vmalloc pages,
 * processes, live handles and live kernel objects equal what they were
 * before, exactly.
 *
 * Parameters: hfuzz_ops=N (default 3000, every test boot; the row
 * qemu-handle-fuzz runs 10^5), hfuzz_seed=N (printed, to replay the
 * operation sequence of each worker; the interleaving is not replayable).
 */
#include "user/utest/utest.h"
#include "include/uapi/test.h"

/*
 * Handles a worker holds. All of them share the child's table of 64
 * (PROC_MAX_HANDLES, kernel/handle.h), with the endpoint's two sides and
 * each worker's own send handle (HF_FIXED), and a worker may hold one more
 * for a moment (a dup or a delivered handle, installed before add() closes
 * it at HF_MAX). With 24 the workers could fill the table, and a create or
 * dup then failed with -EMFILE, counted as a wrong result: seen at -smp 8
 * ("worker 0 op 547: create failed (got -24)" in three workers at once).
 */
#define HF_MAX	       13
#define HF_WORKERS     4
#define HF_FIXED       (2 + HF_WORKERS)
#define HF_TABLE_SLOTS 64
_Static_assert(HF_WORKERS *(HF_MAX + 1) + HF_FIXED <= HF_TABLE_SLOTS,
	       "the workers' handles fit the child's table");
#define HF_PEER SPAWN_HANDLE(0)

struct hent {
	int h;
	uint8_t type;
	uint16_t rights;
	bool priv; /* a memory object only this handle names: safe to touch */
};

struct hworker {
	uint64_t s; /* xorshift state */
	struct hent e[HF_MAX];
	int n, stale[8];
	void *mapped[8]; /* mappings left in place (for revoke and close) */
	uint64_t ops, bad, xfers, revokes, maps;
	int index;
};

static struct {
	int send; /* the peer endpoint, send side (each worker dups its own) */
	int recv; /* its receive side, kept so it outlives a killed peer */
	struct mutex peer_lock;
	int peer;
	uint64_t ops_each, kills;
	uint32_t done;
	uint32_t most; /* the most handles the workers held at once */
	struct hworker w[HF_WORKERS];
} hf;

static uint64_t hrnd(struct hworker *w)
{
	w->s ^= w->s << 13;
	w->s ^= w->s >> 7;
	w->s ^= w->s << 17;
	return w->s;
}

static uint64_t hbelow(struct hworker *w, uint64_t n)
{
	return hrnd(w) % n;
}

static void hbad(struct hworker *w, const char *what, long got)
{
	if (w->bad++ < 5)
		printf("        # handle_fuzz: worker %d op %lu: %s (got %ld)\n", w->index, w->ops,
		       what, got);
}

static void add(struct hworker *w, int h, bool priv)
{
	long v = handle_info(h);

	if (v < 0) {
		hbad(w, "a new handle has no info", v);
		return;
	}
	if (w->n == HF_MAX) {
		handle_close(h);
		return;
	}
	w->e[w->n++] = (struct hent){ h, (uint8_t)HANDLE_INFO_TYPE(v),
				      (uint16_t)HANDLE_INFO_RIGHTS(v), priv };
}

static void forget(struct hworker *w, int i)
{
	w->stale[hbelow(w, 8)] = w->e[i].h;
	w->e[i] = w->e[--w->n];
}

static uint32_t subset(struct hworker *w, uint32_t rights)
{
	return (uint32_t)hrnd(w) & rights;
}

static void op_create(struct hworker *w)
{
	if (w->n >= HF_MAX - 2)
		return;
	int h = hbelow(w, 2) ? ep_create() : mo_create(1 + hbelow(w, 4));

	if (h < 0)
		hbad(w, "create failed", h);
	else
		add(w, h, true);
}

static void op_dup(struct hworker *w, int i)
{
	struct hent *e = &w->e[i];
	uint32_t want = subset(w, R_ALL);
	bool ok = (e->rights & R_DUP) && !(want & ~e->rights);
	int h = handle_dup(e->h, want);

	if (ok != (h > 0) || (!ok && h != -EACCES_)) {
		hbad(w, "dup result", h);
		if (h > 0)
			handle_close(h);
		return;
	}
	if (h < 0)
		return;
	e->priv = false;
	long v = handle_info(h);

	if (HANDLE_INFO_RIGHTS(v) != (want ? want : e->rights) || HANDLE_INFO_TYPE(v) != e->type)
		hbad(w, "dup rights", v);
	add(w, h, false);
}

static void op_close(struct hworker *w, int i)
{
	if (i < 0) {
		int s = w->stale[hbelow(w, 8)];
		long r = s ? handle_close(s) : -EBADF_;

		if (r != -EBADF_)
			hbad(w, "closing a closed handle", r);
		return;
	}
	long r = handle_close(w->e[i].h);

	if (r)
		hbad(w, "close", r);
	forget(w, i);
}

static void op_info(struct hworker *w, int i)
{
	long v = handle_info(w->e[i].h);

	if (HANDLE_INFO_TYPE(v) != w->e[i].type || HANDLE_INFO_RIGHTS(v) != w->e[i].rights)
		hbad(w, "info", v);
}

static void op_xfer(struct hworker *w, int ep)
{
	int k = 1 + (int)hbelow(w, 2), idx[2] = { -1, -1 };
	uint64_t m[4] = { 0 }, x = 0;
	bool move[2] = { false, false };

	if (w->n < k)
		return;
	for (int j = 0; j < k; j++) {
		idx[j] = (int)hbelow(w, (uint64_t)w->n);
		if (j && idx[1] == idx[0])
			return;
		struct hent *e = &w->e[idx[j]];
		uint32_t r = subset(w, e->rights);

		move[j] = hbelow(w, 2);
		m[j] = (uint64_t)e->h;
		x |= move[j] ? IPC_XFER_MOVE(j, r) : IPC_XFER_COPY(j, r);
		e->priv = false;
	}
	m[3] = hrnd(w);
	long r = ipc_call_h(ep, m, x);

	w->xfers++;
	/* A moved handle is gone (whatever the call returned, once the
	 * transfer took it); a copy is still ours with its rights. */
	long v[2] = { 0, 0 };

	for (int j = 0; j < k; j++) {
		v[j] = handle_info(w->e[idx[j]].h);
		if (move[j] && r >= 0 && v[j] != -EBADF_)
			hbad(w, "a moved handle is still here", v[j]);
		if (!move[j] && v[j] < 0)
			hbad(w, "a copied handle is gone", v[j]);
	}
	if (k == 2 && idx[0] < idx[1]) { /* forget the higher index first */
		int t = idx[0];
		long tv = v[0];

		idx[0] = idx[1], v[0] = v[1];
		idx[1] = t, v[1] = tv;
	}
	for (int j = 0; j < k; j++) {
		if (v[j] < 0)
			forget(w, idx[j]);
	}
	if (r < 0)
		return;
	for (int j = 0; j < 4; j++) {
		if (IPC_RESULT_HANDLES(r) & (1u << j))
			add(w, (int)m[j], false);
	}
}

static void op_map(struct hworker *w, int i, bool revoke)
{
	struct hent *e = &w->e[i];

	if (e->type != KOBJ_MEMOBJ)
		return;
	if (revoke) {
		long r = mo_revoke(e->h, hbelow(w, 2) ? MO_DECOMMIT : 0);

		w->revokes++;
		if ((e->rights & R_REVOKE) ? r < 0 : r != -EACCES_)
			hbad(w, "revoke", r);
		return;
	}
	int prot = UPROT_READ | (hbelow(w, 2) ? UPROT_WRITE : 0);
	bool ok = (e->rights & R_MAP_READ) && (!(prot & UPROT_WRITE) || (e->rights & R_MAP_WRITE));
	volatile uint8_t *p = mo_map(e->h, NULL, prot);

	w->maps++;
	if (ok == MAP_FAILED(p)) {
		hbad(w, "map", (long)p);
		return;
	}
	if (!ok)
		return;
	if (e->priv) { /* nobody else can revoke it under us */
		(void)p[0];
		if (prot & UPROT_WRITE)
			p[0] = 1;
	}
	int slot = (int)hbelow(w, 16);

	if (slot >= 8) {
		unmap((void *)p, PAGE_SIZE);
		return;
	}
	if (w->mapped[slot]) /* it stays, for revoke or close, until replaced */
		unmap(w->mapped[slot], PAGE_SIZE);
	w->mapped[slot] = (void *)p;
}

static void peer_restart(void)
{
	mutex_lock(&hf.peer_lock);
	if (hf.peer > 0) {
		kill_pid(hf.peer);
		wait_pid(hf.peer, NULL);
		hf.kills++;
	}
	struct spawn_handle sh = { hf.recv, R_RECV | R_DUP | R_XFER };

	hf.peer = spawn_h("utest", "role_hfuzz_peer", &sh, 1);
	mutex_unlock(&hf.peer_lock);
}

static void hworker_fn(void *arg)
{
	struct hworker *w = arg;
	int ep = handle_dup(hf.send, 0);

	set_affinity(0, w->index % nr_cpus());
	for (w->ops = 0; w->ops < hf.ops_each; w->ops++) {
		int i = w->n ? (int)hbelow(w, (uint64_t)w->n) : -1;
		uint64_t d = hbelow(w, 100);

		if (d < 20 || i < 0)
			op_create(w);
		else if (d < 32)
			op_dup(w, i);
		else if (d < 44)
			op_close(w, hbelow(w, 4) ? i : -1);
		else if (d < 50)
			op_info(w, i);
		else if (d < 75)
			op_xfer(w, ep);
		else if (d < 95)
			op_map(w, i, d >= 88);
		else if (w->index == 0 && hbelow(w, 20) == 0)
			peer_restart();
		uint32_t held = 0, m = __atomic_load_n(&hf.most, __ATOMIC_RELAXED);

		/* Relaxed: another worker's count is only a statistic. */
		for (int j = 0; j < HF_WORKERS; j++)
			held += (uint32_t)__atomic_load_n(&hf.w[j].n, __ATOMIC_RELAXED);
		while (held > m && !__atomic_compare_exchange_n(&hf.most, &m, held, false,
								__ATOMIC_RELAXED, __ATOMIC_RELAXED))
			;
	}
	handle_close(ep);
	while (w->n)
		op_close(w, 0);
	for (int i = 0; i < 8; i++) {
		if (w->mapped[i])
			unmap(w->mapped[i], PAGE_SIZE);
	}
	/* Release: our counts before the finished count; pairs with the
	 * acquire load in t_role_hfuzz. */
	__atomic_fetch_add(&hf.done, 1, __ATOMIC_RELEASE);
	futex_wake(&hf.done, 1);
}

/* role_hfuzz_peer: SPAWN_HANDLE(0) the endpoint's receive side. */
void t_role_hfuzz_peer(const char *arg)
{
	(void)arg;
	static int kept[32];
	int nk = 0;
	uint64_t m[4];

	for (long r = ipc_recv(HF_PEER, m);;) {
		if (r == -ESHUTDOWN_ || r == -EBADF_)
			exit(2);
		if (r < 0) { /* the reply failed: receive afresh */
			r = ipc_recv(HF_PEER, m);
			continue;
		}
		uint64_t s = m[3] | 1, x = 0;

		for (int j = 0; j < 4; j++) {
			if (!(IPC_RESULT_HANDLES(r) & (1u << j)))
				continue;
			int h = (int)m[j];

			s = s * 6364136223846793005ull + 1442695040888963407ull;
			if ((s >> 60) < 6 || nk == 32) {
				handle_close(h);
				continue;
			}
			if ((s >> 60) < 10) {
				void *p = mo_map(h, NULL, UPROT_READ);

				if (!MAP_FAILED(p) && (s >> 59) & 1)
					unmap(p, PAGE_SIZE); /* else it stays until revoked */
			}
			kept[nk++] = h;
		}
		memset(m, 0, sizeof(m));
		if (nk && (s >> 58) & 1 &&
		    (HANDLE_INFO_RIGHTS(handle_info(kept[nk - 1])) & R_XFER)) {
			m[0] = (uint64_t)kept[--nk];
			x = IPC_XFER_MOVE(0, 0);
			r = ipc_reply_recv_h(HF_PEER, m, x);
		} else {
			r = ipc_reply_recv(HF_PEER, m);
		}
	}
}

/* role_hfuzz <seed> <ops per worker> */
void t_role_hfuzz(const char *arg)
{
	uint64_t seed = arg_u64(&arg);
	int nw = nr_cpus() < HF_WORKERS ? nr_cpus() : HF_WORKERS, bad = 0;

	hf.ops_each = arg_u64(&arg);
	hf.recv = ep_pair(&hf.send);
	peer_restart();
	for (int i = 0; i < nw; i++) {
		hf.w[i].index = i;
		hf.w[i].s = (seed ^ (0x9e3779b97f4a7c15ull * (uint64_t)(i + 1))) | 1;
		thread_create(hworker_fn, &hf.w[i]);
	}
	/* Acquire: pairs with the workers' release increments. */
	for (uint32_t d; (d = __atomic_load_n(&hf.done, __ATOMIC_ACQUIRE)) < (uint32_t)nw;)
		futex_wait(&hf.done, d, 100000000);
	uint64_t ops = 0, x = 0, rv = 0, mp = 0;

	for (int i = 0; i < nw; i++) {
		bad += (int)hf.w[i].bad;
		ops += hf.w[i].ops;
		x += hf.w[i].xfers;
		rv += hf.w[i].revokes;
		mp += hf.w[i].maps;
	}
	printf("        # handle_fuzz: %lu operations (%lu transfers, %lu maps, %lu revokes), peer "
	       "killed %lu times, %d wrong results; at most %u handles held at once\n",
	       ops, x, mp, rv, hf.kills, bad, hf.most);
	kill_pid(hf.peer);
	wait_pid(hf.peer, NULL);
	exit(bad ? 1 : 0);
}

void t_handle_fuzz(const char *arg)
{
	uint64_t seed = ut_param(arg, "hfuzz_seed", rdtsc() ^ clock_ns());
	uint64_t ops = ut_param(arg, "hfuzz_ops", 3000);
	int nw = nr_cpus() < HF_WORKERS ? nr_cpus() : HF_WORKERS;
	char a[80];

	ut_note("handle_fuzz: seed %lu, %lu operations (replay: hfuzz_seed=%lu hfuzz_ops=%lu)",
		seed, ops, seed, ops);
	struct usage before = usage_settled(NULL);
	long h0 = sys_test(SYST_HANDLES, 0, 0, 0), k0 = sys_test(SYST_KOBJS, 0, 0, 0);

	snprintf(a, sizeof(a), "role_hfuzz %lu %lu", seed, ops / (uint64_t)nw + 1);
	T_EQ(run_child(a), 0);
	struct usage after = usage_settled(&before);

	T_EQ(after.frames, before.frames);
	T_EQ(after.heap, before.heap);
	T_EQ(after.vmalloc, before.vmalloc);
	T_EQ(after.procs, before.procs);
	for (int i = 0; i < 100 && sys_test(SYST_HANDLES, 0, 0, 0) != h0; i++)
		sleep_ns(10000000);
	T_EQ(sys_test(SYST_HANDLES, 0, 0, 0), h0);
	T_EQ(sys_test(SYST_KOBJS, 0, 0, 0), k0);
	ut_note("handle_fuzz: frames %ld, heap %ld, vmalloc %ld, handles %ld, objects %ld before "
		"and after",
		after.frames, after.heap, after.vmalloc, h0, k0);
}
