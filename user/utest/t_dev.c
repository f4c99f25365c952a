/*
 * Devices in user space (kernel/irq_obj.c, kernel/ioport.c, the driver in
 * user/serial/serial.c). Init gives tests named serial_*, irq_* and
 * ioport_* the hardware resource and the serial driver's handles
 * (DEV_* in utest.h).
 *
 *   serial_driver_output       a line printed through the driver reaches
 *                              the serial log (the matrix row
 *                              qemu-serial-driver expects it) and was sent
 *                              by interrupts (QEMU), not only by polling;
 *                              a driver without R_IO answers -ENODEV
 *   ioport_without_cap_gp      IN/OUT without the port capability: #GP,
 *                              the process killed with a report; with it,
 *                              only the granted ports work, on every CPU
 *                              the process runs on, and not after disable;
 *                              bad ranges, rights and types refused
 *   irq_object_protocol        wait, raise, ack and their counters; one
 *                              object per line; rights and types; a
 *                              waiter told when the last handle closes;
 *                              a killed waiter; handles and objects back
 *   serial_driver_kill_restart init's driver told to quit, one of ours
 *                              started on the same endpoint, killed in
 *                              irq_wait (its IRQ, ports and handles come
 *                              back exactly, IRQ 4 can be created again),
 *                              and a restarted driver serves the clients
 *                              of init's endpoint (it stays running)
 */
#include "user/utest/utest.h"
#include "include/uapi/serial.h"

#define ENODEV_		 19
#define EINVAL_		 22
#define EBUSY_		 16
#define ERANGE_		 34
#define ETIMEDOUT_	 110
#define EINTR_		 4
#define COM1		 0x3f8
#define EXIT_KILLED(vec) (128 + (vec))
#define COM2		 0x2f8

static long handles_now(void)
{
	return sys_test(SYST_HANDLES, 0, 0, 0);
}

static long kobjs_now(void)
{
	return sys_test(SYST_KOBJS, 0, 0, 0);
}

static bool have_devices(void)
{
	if (HANDLE_INFO_TYPE(handle_info(DEV_RES)) == KOBJ_HWRES)
		return true;
	ut_note("no hardware resource handle (init gives it to serial_*, irq_*, ioport_*)");
	return false;
}

static bool on_qemu(void)
{
	char p[32] = "";

	kinfo(KINFO_PLATFORM, p, sizeof(p));
	return !strncmp(p, "qemu", 4);
}

/* What serial_write returns for n bytes: the last message's length. */
static long last_chunk(size_t n)
{
	return n % SERIAL_MAX_WRITE ? (long)(n % SERIAL_MAX_WRITE) : SERIAL_MAX_WRITE;
}

/* Wait (at most 10 s) for the live object and handle counts to reach want. */
static void settle(long kobjs, long handles)
{
	for (int i = 0; i < 1000 && (kobjs_now() != kobjs || handles_now() != handles); i++)
		sleep_ns(10000000);
}

void t_serial_driver_output(const char *arg)
{
	(void)arg;
	if (!have_devices())
		return;
	uint64_t st[3] = { 0 }, irq0 = counter("irq_user");
	const char line[] = "serial_driver_output: this line went through the user-level driver\n";

	T_EQ(serial_write_stats(DEV_SVC, line, sizeof(line) - 1, st), last_chunk(sizeof(line) - 1));
	ut_note("driver: %lu interrupts, %lu polled fallbacks, %lu bytes out; irq_user +%lu", st[0],
		st[1], st[2], counter("irq_user") - irq0);
	T_EXPECT(st[2] >= sizeof(line) - 1);
	if (on_qemu()) {
		/* Every message longer than the FIFO sets THRI and so takes at
		 * least one interrupt, and the line is masked from each fire to
		 * its acknowledgement: a driver stuck at 1 was never unmasked. */
		T_EXPECT(st[0] >= 2);
		T_EXPECT(counter("irq_user") > irq0);
		T_EXPECT(counter("irq_user_ack") > 0);
	}
	/* A bad request is refused, and the driver serves on. */
	uint64_t m[4] = { SERIAL_WRITE | 99 << 8, 0, 0, 0 };

	T_EXPECT(ipc_call(DEV_SVC, m) >= 0);
	T_EQ((long)m[0], -EINVAL_);
	T_EQ(serial_write(DEV_SVC, "ok\n", 3), 3);
	/* A driver whose ports handle lacks R_IO cannot drive the UART: it
	 * answers -ENODEV instead of leaving its callers blocked. */
	long k0 = kobjs_now(), h0 = handles_now();
	int ports = ioport_create(DEV_RES, COM1, 8), svc_send, svc = ep_pair(&svc_send);
	struct spawn_handle hs[4] = { { ports, R_DUP | R_XFER },
				      { ports, R_DUP | R_XFER },
				      { svc, SPAWN_MOVE },
				      { svc_send, 0 } };
	int pid = spawn_h("serial", "", hs, 4), code = 0;

	T_EXPECT(pid > 0);
	T_EQ(serial_write(svc_send, "never\n", 6), -ENODEV_);
	T_EQ(kill_pid(pid), 0);
	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(handle_close(ports), 0);
	T_EQ(handle_close(svc_send), 0);
	settle(k0, h0);
	T_EQ(kobjs_now(), k0);
	T_EQ(handles_now(), h0);
}

/* role_port_probe <mode>: SPAWN_HANDLE(0) a port handle for COM2's range
 * (mode 0: none at all). Mode 0: IN from COM1 at once. Mode 1: enable,
 * IN from COM2 on two CPUs (it must work), then from COM1 (not granted).
 * Mode 2: enable, IN from COM2, disable, IN from COM2 again. Mode 3:
 * disable while a thread reads COM2 in a loop on CPU 1. Exits 0 only if
 * no port access faulted, which no mode allows. */
static volatile int probe_done;
static volatile uint64_t probe_reads;

static void probe_thread(void *arg)
{
	(void)arg;
	(void)inb(COM2 + 7);
	probe_done = 1;
}

/* Mode 3: reads the port in a loop on another CPU until it faults. */
static void probe_spinner(void *arg)
{
	(void)arg;
	for (;;) {
		(void)inb(COM2 + 7);
		probe_reads++;
	}
}

void t_role_port_probe(const char *arg)
{
	int mode = (int)arg_u64(&arg);

	if (mode == 0) {
		(void)inb(COM1 + 5);
		exit(0);
	}
	if (ioport_enable(SPAWN_HANDLE(0), 1))
		exit(1);
	(void)inb(COM2 + 7);
	if (mode == 1) {
		int t = thread_create(probe_thread, NULL);

		if (nr_cpus() > 1)
			set_affinity(t, 1);
		thread_join(t, NULL);
		if (!probe_done)
			exit(2);
		(void)inb(COM1 + 5);
	} else if (mode == 2) {
		if (ioport_enable(SPAWN_HANDLE(0), 0))
			exit(1);
		(void)inb(COM2 + 7);
	} else {
		/* Disable while a thread of ours uses the ports on CPU 1: the
		 * change must reach that CPU's TSS before it returns (an IPI),
		 * or the thread would keep its access until its next switch. */
		int t = thread_create(probe_spinner, NULL);

		if (nr_cpus() > 1)
			set_affinity(t, 1);
		while (probe_reads < 100)
			yield();
		if (ioport_enable(SPAWN_HANDLE(0), 0))
			exit(1);
		/* From here its next IN must fault (one read may have been
		 * counted after our load). Wait, however long its CPU takes to
		 * run it, for the fault that kills us, or for 1000 more reads:
		 * the old bitmap still in CPU 1's TSS. No time limit here. */
		uint64_t r0 = probe_reads;

		while (probe_reads < r0 + 1000)
			sleep_ns(1000000);
		exit(0);
	}
	exit(0);
}

static int probe(int mode, int h)
{
	char a[32];
	int code = -1;

	snprintf(a, sizeof(a), "role_port_probe %d", mode);
	int pid = h < 0 ? start_child(a) : start_child_h(a, h, R_IO | R_DUP | R_XFER);

	if (pid < 0 || wait_pid(pid, &code))
		return -1;
	return code;
}

void t_ioport_without_cap_gp(const char *arg)
{
	(void)arg;
	long k0 = kobjs_now(), h0 = handles_now();

	/* No capability at all: the first IN kills it, #GP (vector 13). */
	T_EQ(probe(0, -1), EXIT_KILLED(13));
	/* Our own process has no ports either (run last: it ends us). */
	if (!have_devices())
		return;
	int h = ioport_create(DEV_RES, COM2, 8);

	T_EXPECT(h > 0);
	uint64_t loads0 = counter("ioport_bitmap_load");

	/* Granted ports work on both CPUs; COM1's, not granted, #GP. */
	T_EQ(probe(1, h), EXIT_KILLED(13));
	T_EXPECT(counter("ioport_bitmap_load") > loads0);
	/* Disabled again: #GP on the port that worked a moment before, in
	 * this thread and in one running on another CPU meanwhile. */
	T_EQ(probe(2, h), EXIT_KILLED(13));
	T_EQ(probe(3, h), EXIT_KILLED(13));
	/* Refused: ranges, rights, types, forgeries. */
	T_EQ(ioport_create(DEV_RES, 0, 0), -EINVAL_);
	T_EQ(ioport_create(DEV_RES, 0xfff0, 0x20), -EINVAL_);
	T_EQ(ioport_create(DEV_RES, 0xcf8, 0x2000), -ERANGE_);
	T_EQ(ioport_create(DEV_RES, 0xc000, 8), -ERANGE_);
	T_EQ(ioport_create(h, COM2, 8), -EPROTOTYPE_);
	T_EQ(ioport_create(0x7fff00, COM2, 8), -EBADF_);
	int noio = handle_dup(h, R_DUP | R_XFER);

	T_EXPECT(noio > 0);
	T_EQ(ioport_enable(noio, 1), -EACCES_);
	T_EQ(ioport_enable(h, 2), -EINVAL_);
	T_EQ(ioport_enable(DEV_RES, 1), -EPROTOTYPE_);
	T_EQ(handle_close(noio), 0);
	T_EQ(handle_close(h), 0);
	settle(k0, h0);
	T_EQ(kobjs_now(), k0);
	T_EQ(handles_now(), h0);
}

/* A line no device drives here: COM2's IRQ 3, else a few other ISA ones. */
static int spare_irq(int res, int *line)
{
	static const int lines[] = { 3, 5, 10, 11, 9 };

	for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
		int h = irq_create(res, lines[i]);

		if (h > 0) {
			*line = lines[i];
			return h;
		}
	}
	return -1;
}

/* role_irq_waiter: SPAWN_HANDLE(0) an IRQ handle; waits on it forever
 * (until killed). */
void t_role_irq_waiter(const char *arg)
{
	(void)arg;
	for (;;)
		if (irq_wait(SPAWN_HANDLE(0), 0) < 0)
			exit(9);
}

static volatile long closed_wait_result = 1;

static void closed_waiter(void *arg)
{
	closed_wait_result = irq_wait((int)(long)arg, 0);
}

void t_irq_object_protocol(const char *arg)
{
	(void)arg;
	if (!have_devices())
		return;
	long k0 = kobjs_now(), h0 = handles_now();
	int line = -1, h = spare_irq(DEV_RES, &line);

	T_EXPECT(h > 0);
	if (h < 0)
		return;
	ut_note("spare line: ISA IRQ %d", line);
	T_EQ(HANDLE_INFO_TYPE(handle_info(h)), KOBJ_IRQ);
	T_EQ(irq_create(DEV_RES, line), -EBUSY_); /* one object per line */
	T_EQ(irq_create(DEV_RES, 4), -EBUSY_);	  /* the serial driver's */
	T_EQ(irq_create(DEV_RES, 300), -EINVAL_);
	T_EQ(irq_create(DEV_RES, 200), -ENODEV_);
	T_EQ(irq_create(h, 3), -EPROTOTYPE_);
	T_EQ(irq_create(DEV_SVC, 3), -EPROTOTYPE_);
	/* Wait, raise, ack, and their counters. */
	uint64_t u0 = counter("irq_user"), a0 = counter("irq_user_ack");

	T_EQ(irq_wait(h, 1000000), -ETIMEDOUT_);
	T_EQ(irq_ack(h), 0); /* not masked: nothing to unmask, not counted */
	T_EQ(counter("irq_user_ack"), a0);
	T_EQ(sys_test(SYST_IRQ_RAISE, h, 0, 0), 0);
	T_EQ(irq_wait(h, 0), 1);
	T_EQ(counter("irq_user"), u0 + 1);
	T_EQ(irq_ack(h), 0);
	T_EQ(counter("irq_user_ack"), a0 + 1);
	T_EQ(sys_test(SYST_IRQ_RAISE, h, 0, 0), 0);
	T_EQ(sys_test(SYST_IRQ_RAISE, h, 0, 0), 0);
	T_EQ(irq_wait(h, 0), 2); /* fires collected together */
	T_EQ(irq_ack(h), 0);
	/* Rights: a copy without R_ACK can neither wait nor ack. */
	int weak = handle_dup(h, R_DUP | R_XFER);

	T_EQ(irq_wait(weak, 0), -EACCES_);
	T_EQ(irq_ack(weak), -EACCES_);
	T_EQ(sys_test(SYST_IRQ_RAISE, weak, 0, 0), -EACCES_);
	T_EQ(irq_wait(DEV_SVC, 0), -EPROTOTYPE_);
	T_EQ(irq_wait(0x7fff00, 0), -EBADF_);
	T_EQ(handle_close(weak), 0);
	/* Closing the last handle wakes a waiter with -ESHUTDOWN, and the
	 * line is free again. */
	int t = thread_create(closed_waiter, (void *)(long)h);

	while (!sys_test(SYST_TASK_OFF_CPU, t, 0, 0))
		sleep_ns(1000000);
	T_EQ(handle_close(h), 0);
	thread_join(t, NULL);
	T_EQ(closed_wait_result, -ESHUTDOWN_);
	/* A waiter killed in irq_wait: its handle and the object go. */
	h = irq_create(DEV_RES, line);
	T_EXPECT(h > 0);
	int pid = start_child_h("role_irq_waiter", h, SPAWN_MOVE);
	int code = 0;

	T_EXPECT(pid > 0);
	sleep_ns(20000000);
	T_EQ(kill_pid(pid), 0);
	T_EQ(wait_pid(pid, &code), 0);
	T_EXPECT(code != 9);
	settle(k0, h0);
	T_EQ(kobjs_now(), k0);
	T_EQ(handles_now(), h0);
	h = irq_create(DEV_RES, line); /* free again */
	T_EXPECT(h > 0);
	T_EQ(handle_close(h), 0);
	T_EQ(kobjs_now(), k0);
	T_EQ(handles_now(), h0);
}

/* Start a driver on init's service endpoint with a fresh IRQ 4, COM1's
 * ports and a control endpoint of ours; returns its pid. */
static int driver_start(int *ctl_send)
{
	int ports = ioport_create(DEV_RES, COM1, 8), irq = irq_create(DEV_RES, 4);
	int ctl_recv = ep_pair(ctl_send);

	T_EXPECT(ports > 0);
	T_EXPECT(irq > 0);
	T_EXPECT(ctl_recv > 0);
	struct spawn_handle hs[4] = { { ports, SPAWN_MOVE },
				      { irq, SPAWN_MOVE },
				      { DEV_SVC_RECV, R_RECV },
				      { ctl_recv, SPAWN_MOVE } };

	return spawn_h("serial", "", hs, 4);
}

static void driver_check(const char *what)
{
	char line[80];
	uint64_t st[3] = { 0 };
	int n = snprintf(line, sizeof(line), "serial_driver_kill_restart: %s\n", what);

	T_EQ(serial_write_stats(DEV_SVC, line, (size_t)n, st), last_chunk((size_t)n));
	ut_note("%s: %lu interrupts, %lu polls", what, st[0], st[1]);
	if (on_qemu())
		T_EXPECT(st[0] > 0);
}

void t_serial_driver_kill_restart(const char *arg)
{
	(void)arg;
	if (!have_devices())
		return;
	long k0 = kobjs_now(), h0 = handles_now();
	uint64_t m[4] = { SERIAL_QUIT, 0, 0, 0 };

	/* init's driver: its IRQ and port objects and four handles go. */
	T_EXPECT(ipc_call(DEV_CTL, m) >= 0);
	settle(k0 - 2, h0 - 4);
	T_EQ(kobjs_now(), k0 - 2);
	T_EQ(handles_now(), h0 - 4);
	long k1 = kobjs_now(), h1 = handles_now();
	int ctl = -1, pid = driver_start(&ctl);

	T_EXPECT(pid > 0);
	driver_check("a driver of the test's");
	/* Killed (its IRQ thread in irq_wait): everything comes back. */
	int code = 0;

	T_EQ(kill_pid(pid), 0);
	T_EQ(wait_pid(pid, &code), 0);
	T_EQ(handle_close(ctl), 0);
	settle(k1, h1);
	T_EQ(kobjs_now(), k1);
	T_EQ(handles_now(), h1);
	int again = irq_create(DEV_RES, 4);

	T_EXPECT(again > 0);
	T_EQ(handle_close(again), 0);
	/* Restarted: it serves init's endpoint, and stays for the rest of
	 * the run. */
	pid = driver_start(&ctl);
	T_EXPECT(pid > 0);
	driver_check("the restarted driver");
	T_EQ(handle_close(ctl), 0);
}

/* irq_handle_of_dead_object_unbinds_nothing's closer: waits until the
 * dup has taken its reference (inside its SYST_DUP_DELAY), then closes the
 * only handle, killing the object. */
static volatile int dc_h, dc_go;

static void dead_closer(void *arg)
{
	(void)arg;
	while (!dc_go)
		cpu_relax();
	sleep_ns(20000000); /* the dup spins 100 ms in its window */
	handle_close(dc_h);
}

/*
 * Regression irq_handle_of_dead_object_unbinds_nothing: a dup racing a
 * close of an IRQ object's only handle could leave a live handle to the
 * dead object (the dup counts its handle after the close has killed the
 * object, kernel/handle.c), and the count it revived made that handle's
 * close unbind the object a second time: the vector and the line a new
 * object had taken since. The new object's fires went nowhere ("raise
 * and wait on the new object gives -110") and a third object got its line
 * ("third irq_create on the same line: 1840644"). Found in review
 * (2026-12-06), in about 4,100 tries under QEMU; here the window is held
 * open (SYST_DUP_DELAY, 100 ms) and the close lands in it, from another
 * thread.
 */
void t_irq_handle_of_dead_object_unbinds_nothing(const char *arg)
{
	int line = -1;

	(void)arg;
	if (!have_devices()) {
		ut_note("SKIP: no devices");
		exit(3);
	}
	int dead_h = -1, tries = 0;
	long w = -ETIMEDOUT_;

	/* The close must land in the dup's window: on one CPU only a tick
	 * that preempts the dup there lets the closer run, and on a loaded
	 * host that tick may come late. A close that missed the window
	 * leaves dead_h the object's last handle, alive (its wait times
	 * out): close it and try again (the full run of 2026-12-06 at
	 * 0df855c missed once on qemu-bios-smp1, beside other work). */
	while (w == -ETIMEDOUT_ && tries++ < 10) {
		int h = spare_irq(DEV_RES, &line);

		if (!T_EXPECT(h > 0))
			return;
		dc_h = h;
		dc_go = 0;
		int tid = thread_create(dead_closer, NULL);

		T_EQ(sys_test(SYST_DUP_DELAY, 100000, 0, 0), 0);
		dc_go = 1;
		dead_h = handle_dup(h, 0); /* the close lands in its window */
		thread_join(tid, NULL);
		T_EXPECT(dead_h > 0);
		w = irq_wait(dead_h, 1);
		if (w == -ETIMEDOUT_)
			T_EQ(handle_close(dead_h), 0); /* missed: the object goes */
	}
	ut_note("line %d: a dup whose source was closed in its window (try %d): handle %d, wait "
		"%ld",
		line, tries, dead_h, w);
	T_EQ(w, -ESHUTDOWN_); /* a handle to the dead object */
	T_EQ(sys_test(SYST_IRQ_RAISE, dead_h, 0, 0), -ESHUTDOWN_);
	int nh = irq_create(DEV_RES, line); /* another driver's, on the freed vector */

	T_EXPECT(nh > 0);
	T_EQ(handle_close(dead_h), 0);
	T_EQ(sys_test(SYST_IRQ_RAISE, nh, 0, 0), 0);
	long got = irq_wait(nh, 100000000);

	ut_note("after closing it, the new object's raise and wait: %ld", got);
	T_EQ(got, 1); /* its fires still reach it */
	T_EQ(irq_ack(nh), 0);
	T_EQ(irq_create(DEV_RES, line), -EBUSY_); /* and the line is still its */
	T_EQ(handle_close(nh), 0);
}

/* huge_timeouts_wait_their_time's waiters: each records its wait's
 * result and that it returned. */
static struct {
	uint32_t word;
	int irq;
	volatile long futex_r, irq_r;
	volatile int futex_done, irq_done;
} ht;

#define HT_HUGE (~0ull - 1000) /* wraps the deadline in the old code */

static void ht_futex(void *p)
{
	(void)p;
	ht.futex_r = futex_wait(&ht.word, 0, HT_HUGE);
	ht.futex_done = 1;
}

static void ht_irq(void *p)
{
	(void)p;
	ht.irq_r = irq_wait(ht.irq, HT_HUGE);
	ht.irq_done = 1;
}

/*
 * Regression huge_timeouts_wait_their_time: futex_wait and irq_wait
 * computed their deadline as now + timeout, which wraps for a timeout
 * near 2^64 into the past: the wait ended at once with -ETIMEDOUT, where
 * a caller asking to wait (nearly) for ever must wait. Now the deadline
 * saturates (deadline_after_ns(); sched_sleep_ns uses it too, though
 * sys_sleep refuses more than an hour with -EINVAL, checked here). Each
 * wait runs in a thread; 30 ms later it must still be waiting, and then
 * its event ends it (0; one fire). The IRQ part needs the
 * hardware-resource handle (init gives it).
 */
void t_huge_timeouts_wait_their_time(const char *arg)
{
	(void)arg;
	int line = -1;

	ht.word = 0;
	ht.futex_done = ht.irq_done = 0;
	ht.irq = HANDLE_INFO_TYPE(handle_info(DEV_RES)) == KOBJ_HWRES ? spare_irq(DEV_RES, &line)
								      : -1;
	int tf = thread_create(ht_futex, NULL);
	int ti = ht.irq > 0 ? thread_create(ht_irq, NULL) : -1;

	T_EXPECT(tf > 0);
	T_EQ(sleep_ns(HT_HUGE), -EINVAL_);
	sleep_ns(30000000);
	ut_note("after 30 ms: futex_wait %s (%ld), irq_wait %s (%ld)",
		ht.futex_done ? "returned" : "waits", ht.futex_r,
		ht.irq > 0 ? (ht.irq_done ? "returned" : "waits") : "not run", ht.irq_r);
	T_EQ(ht.futex_done, 0);
	T_EQ(ht.irq_done, 0);
	/* The events end the two waits that have one. */
	while (!ht.futex_done)
		futex_wake(&ht.word, 1);
	T_EQ(thread_join(tf, NULL), 0);
	T_EQ(ht.futex_r, 0);
	if (ht.irq > 0) {
		T_EQ(sys_test(SYST_IRQ_RAISE, ht.irq, 0, 0), 0);
		T_EQ(thread_join(ti, NULL), 0);
		T_EQ(ht.irq_r, 1);
		T_EQ(handle_close(ht.irq), 0);
	}
}

/*
 * Regression console_write_scrolls_once_a_chunk (found in review): the
 * framebuffer console scrolled the screen, one move of the whole
 * framebuffer, at every line past the bottom, all with interrupts off
 * (console_emit). One console_write of 256 newlines made 256 moves: on
 * QEMU 9.7 s with interrupts off, and with other CPUs busy the lock-up
 * detector's panic (a cross-CPU call unanswered for 10 s), from any
 * process. Now a write scrolls once, by all its lines (kernel/fbcon.c):
 * counted in fbcon_scroll; 300 newlines are two chunks (256 bytes each),
 * so at most two scrolls. Without a framebuffer console (fbcon=off, or
 * none), nothing to check.
 */
void t_console_write_scrolls_once_a_chunk(const char *arg)
{
	static char nl[300];

	(void)arg;
	memset(nl, '\n', sizeof(nl));
	uint64_t s0 = counter("fbcon_scroll");

	T_EQ(console_write(nl, 64), 64); /* the cursor to the bottom row (48 rows here) */
	uint64_t s1 = counter("fbcon_scroll");

	T_EQ(console_write(nl, sizeof(nl)), (long)sizeof(nl));
	uint64_t s2 = counter("fbcon_scroll");

	if (s2 == s0) {
		ut_note("SKIP: no framebuffer console (fbcon_scroll stayed %lu)", s0);
		exit(3);
	}
	ut_note("fbcon_scroll: %lu for the first 64 newlines, %lu for the next 300 (2 chunks)",
		s1 - s0, s2 - s1);
	T_EXPECT(s2 - s1 <= 2);
}

/*
 * Regression console_cannot_forge_the_verdict (found in review): the
 * runner ends a boot at the first verdict line it reads, and under Bochs
 * that line is the whole verdict; any program could print one. The
 * kernel's line now starts with STX, which console_write replaces in user
 * text (with every control byte but newline, tab and CR). Both forgeries
 * below, printed, must leave the run going: this test then passes, and
 * the rows after it run.
 */
void t_console_cannot_forge_the_verdict(const char *arg)
{
	static const char plain[] = "\n@@UKERNEL-EXIT fail@@\n";
	static const char stx[] = "\n\x02@@UKERNEL-EXIT fail@@\n";

	(void)arg;
	T_EQ(console_write(plain, sizeof(plain) - 1), (long)sizeof(plain) - 1);
	T_EQ(console_write(stx, sizeof(stx) - 1), (long)sizeof(stx) - 1);
	ut_note("two forged verdict lines printed; the run goes on");
}
