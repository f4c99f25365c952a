/*
 * Futexes: wait on a user word while it holds an expected value; wake.
 *
 * Key: (mm, user address). Waiters hang on one of FUTEX_BUCKETS lists, each
 * with a lock. Lost wake-ups are impossible because the waiter compares the
 * word and queues itself under the bucket lock, and the waker (which
 * changed the word in user space before calling wake) takes the same lock
 * to find waiters: either the waiter saw the new value and did not sleep,
 * or it is queued when the waker looks.
 *
 * The comparison reads user memory with page faults disabled (a fault
 * would need mm->lock, which ranks above the bucket lock); if the page is
 * not present the waiter drops the lock, faults it in normally and
 * retries.
 *
 * Lock order: futex bucket lock, then run-queue locks (inside sched_*).
 */
#include "kernel/futex.h"
#include "include/uapi/errno.h"
#include "kernel/uaccess.h"
#include "lib/spinlock.h"
#include "lib/list.h"
#include "lib/time.h"
#include "sched/task.h"
#include "mm/mm.h"

#define FUTEX_BUCKETS 64

struct bucket {
	struct spinlock lock;
	struct list_node waiters;
};

static struct bucket buckets[FUTEX_BUCKETS];

void futex_init(void)
{
	for (int i = 0; i < FUTEX_BUCKETS; i++) {
		spin_init(&buckets[i].lock, "futex bucket");
		list_init(&buckets[i].waiters);
	}
}

static struct bucket *bucket_of(struct mm *mm, uint64_t addr)
{
	uint64_t h = ((uint64_t)mm >> 6) ^ (addr >> 2) ^ (addr >> 12);

	return &buckets[(h * 0x9e3779b97f4a7c15ull) >> 58];
}

long futex_wait(uint64_t uaddr, uint32_t expected, uint64_t timeout_ns)
{
	struct task *me = current_task();
	struct mm *mm = me->mm;
	struct bucket *b = bucket_of(mm, uaddr);
	uint32_t val;

	if ((uaddr & 3) || !user_range_valid(uaddr, 4))
		return -EINVAL;
	for (;;) {
		spin_lock(&b->lock);
		int r = get_user_u32(&val, uaddr, true);

		if (!r)
			break;
		spin_unlock(&b->lock);
		/* Fault the page in with faults allowed, then retry. */
		if (get_user_u32(&val, uaddr, false))
			return -EFAULT;
	}
	if (val != expected) {
		spin_unlock(&b->lock);
		return -EAGAIN;
	}
	me->futex_key_mm = (uint64_t)mm;
	me->futex_key_addr = uaddr;
	me->wake_reason = WAKE_NONE;
	list_add_tail(&b->waiters, &me->rq_link_futex);
	sched_block_timeout(&b->lock, timeout_ns ? deadline_after_ns(timeout_ns) : 0);
	/* Woken: by futex_wake (it dequeued us), by the timeout, or killed. */
	spin_lock(&b->lock);
	bool queued = !list_empty(&me->rq_link_futex);

	list_del(&me->rq_link_futex);
	spin_unlock(&b->lock);
	if (!queued)
		return 0;
	if (me->flags & TF_KILLED)
		return -EINTR;
	return me->wake_reason == WAKE_TIMEOUT ? -ETIMEDOUT : 0;
}

long futex_wake(uint64_t uaddr, uint32_t count)
{
	struct mm *mm = current_task()->mm;
	struct bucket *b = bucket_of(mm, uaddr);
	struct list_node *pos, *tmp;
	long woken = 0;

	if ((uaddr & 3) || !user_range_valid(uaddr, 4))
		return -EINVAL;
	spin_lock(&b->lock);
	list_for_each_safe (pos, tmp, &b->waiters) {
		struct task *t = list_entry(pos, struct task, rq_link_futex);

		if (woken >= count)
			break;
		if (t->futex_key_mm != (uint64_t)mm || t->futex_key_addr != uaddr)
			continue;
		list_del(&t->rq_link_futex);
		sched_wake(t, WAKE_SIGNAL);
		woken++;
	}
	spin_unlock(&b->lock);
	return woken;
}
