/*
 * IPC ping-pong between two processes, same CPU and across CPUs, with the
 * message contents checked both ways and the fast or slow path counted.
 */
#include "user/utest/utest.h"

#define STOP ~0ull

static void transform(uint64_t m[4])
{
	m[0] += 1;
	m[1] ^= 0xa5a5a5a5a5a5a5a5ull;
	m[2] *= 3;
	m[3] -= 7;
}

static uint64_t parse_u64(const char **p)
{
	uint64_t v = 0;

	while (**p == ' ')
		(*p)++;
	while (**p >= '0' && **p <= '9')
		v = v * 10 + (uint64_t)(*(*p)++ - '0');
	return v;
}

/* role_ipc_server <key> <cpu>: reply to calls until one says STOP. */
void t_role_ipc_server(const char *arg)
{
	uint64_t key = parse_u64(&arg);
	int cpu = (int)parse_u64(&arg);
	uint64_t m[4] = { 0 };

	set_affinity(0, cpu);
	int h = ep_create(key);

	if (h < 0)
		exit(10);
	long r = ipc_recv(h, m);

	while (r > 0 && m[0] != STOP) {
		transform(m);
		r = ipc_reply_recv(h, m);
	}
	if (r <= 0)
		exit(11);
	ipc_reply(h, m); /* answer the STOP, then leave */
	exit(0);
}

static void pingpong(int server_cpu, int client_cpu, const char *path_counter)
{
	char role[64];
	uint64_t key = 1000 + (uint64_t)getpid();
	int h = -1;

	T_EQ(set_affinity(0, client_cpu), 0);
	snprintf(role, sizeof(role), "role_ipc_server %lu %d", key, server_cpu);
	int pid = start_child(role);

	T_EXPECT(pid > 0);
	for (int i = 0; i < 10000 && h < 0; i++) { /* up to 10 s: a hang bound */
		h = ep_open(key);
		if (h < 0)
			sleep_ns(1000000);
	}
	if (!T_EXPECT(h >= 0))
		return;
	uint64_t path0 = counter(path_counter);
	int rounds = 2000, bad = 0;

	for (int i = 0; i < rounds; i++) {
		uint64_t m[4] = { (uint64_t)i, (uint64_t)i * 7919, ~(uint64_t)i, 0x1234 };
		uint64_t want[4] = { m[0], m[1], m[2], m[3] };

		transform(want);
		long r = ipc_call(h, m);

		if (r <= 0 || memcmp(m, want, sizeof(m)))
			bad++;
	}
	T_EQ(bad, 0);
	uint64_t path = counter(path_counter) - path0;

	T_EXPECT(path >= (uint64_t)rounds);
	uint64_t stop[4] = { STOP, 0, 0, 0 };

	T_EXPECT(ipc_call(h, stop) > 0);
	int code = -1;

	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(code, 0);
	/* The server is gone: calls fail cleanly. */
	uint64_t m[4] = { 1, 2, 3, 4 };

	T_EXPECT(ipc_call(h, m) < 0);
	T_EQ(ep_close(h), 0);
	ut_note("%d round trips, %lu on the %s", rounds, path, path_counter);
}

void t_ipc_pingpong_same_cpu(const char *arg)
{
	(void)arg;
	pingpong(0, 0, "ipc_fastpath");
}

void t_ipc_pingpong_cross_cpu(const char *arg)
{
	(void)arg;
	if (nr_cpus() < 2) {
		ut_note("SKIP: needs two CPUs");
		exit(3);
	}
	pingpong(1, 0, "ipc_slowpath");
}
