/*
 * What the TLB-coherence checker's files share (mm/tlbcheck.c opens with
 * the protocol: the model, its locking and the assertions). Private to
 * mm/tlbcheck*.c: the model of one CPU, its records, and the helpers that
 * cross from one file to another; everything else stays static in its file.
 */
#pragma once

#include "lib/compiler.h"
#include "lib/percpu.h"
#include "lib/spinlock.h"
#include "arch/layout.h"

struct mm;

#define NR_PCIDS   4096
#define ASSOC_MAX  4
#define STALE_MAX  16384
#define CTX_KERNEL 0
#define HASH_SIZE  (2 * STALE_MAX)

enum {
	TC_PAGE,  /* a translation of va to pa */
	TC_TABLE, /* a paging-structure entry through the table at pa */
	TC_CTX,	  /* reports only: the PCID holds entries of another context */
	TC_PAGES, /* translations of any pages of ctx, the oldest changed at gen
		   * (va, pa unused): what compact() keeps of a PCID that must
		   * be flushed whole before its next use (tc_flush_due) */
};

struct stale {
	uint64_t ctx, va, pa, gen;
	uint16_t pcid;
	uint8_t kind;
};

struct tc_cpu {
	struct spinlock lock; /* everything below, and the CPU's slot records */
	uint32_t cpu;	      /* whose model this is */
	uint16_t pcid;	      /* logical PCID loaded */
	uint64_t ctx;	      /* context of the loaded root */
	bool user;	      /* the loaded root is a user root */
	uint64_t claim_ctx, claim_gen, claim_kgen;
	bool claimed;
	uint64_t kdeferred_gen; /* last kernel flush the initiator deferred for us */
	uint64_t kclean_gen;	/* kernel flush generation we caught up to */
	uint64_t assoc[NR_PCIDS][ASSOC_MAX];
	uint64_t kassoc[NR_PCIDS / 64]; /* PCIDs that may hold kernel translations */
	uint64_t used[NR_PCIDS / 64];	/* PCIDs with a non-empty assoc */
	uint32_t nstale;
	uint64_t compactions;
	struct stale stale[STALE_MAX];
	uint32_t hash[HASH_SIZE]; /* scratch for compact() */
};

extern struct tc_cpu *tcs[NR_CPUS]; /* published once, by each CPU itself */

/* This CPU's model, locked (or already locked by a transaction). */
struct held {
	uint64_t flags;
	bool locked; /* by us, here */
};

/* mm/tlbcheck_model.c: the model, its locks and statistics. */
struct tc_cpu *tc_of(uint32_t cpu);
struct tc_cpu *me_tc(void);
void tc_count_check(void);
struct tc_cpu *tc_lock_me(struct held *h);
void tc_unlock_me(struct tc_cpu *t, struct held *h);
uint64_t tc_lock_other(struct tc_cpu *t);
uint64_t tc_ctx_of_root(paddr_t root, bool *user);
uint64_t tc_mm_gen(uint64_t ctx);
void tc_bit_set(uint64_t *m, uint32_t i);
void tc_assoc_add(struct tc_cpu *t, uint16_t p, uint64_t ctx);
bool tc_assoc_has(const struct tc_cpu *t, uint16_t p, uint64_t ctx);
void tc_drop_where(struct tc_cpu *t, bool (*match)(const struct stale *, const void *),
		   const void *arg);
void tc_flush_pcid(struct tc_cpu *t, uint16_t p);
void tc_flush_everything(struct tc_cpu *t);
void tc_add_stale(struct tc_cpu *t, const struct stale *s);

/* mm/tlbcheck_hooks.c: the events that change the model. */
void tc_cr3_write(struct tc_cpu *t, uint64_t cr3, void *caller, bool check);
void tc_invlpg(struct tc_cpu *t, uint16_t p, uint64_t va);

/* mm/tlbcheck.c: the assertions. */
bool tc_flush_due(uint32_t c, const struct stale *s);
void tc_report(const char *check, uint32_t cpu, const struct stale *s, void *caller);
