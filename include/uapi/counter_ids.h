/*
 * Counter names (user ABI): SYS_COUNTERS returns the counters in this
 * order and SYS_COUNTER_NAME names them (kernel/counters.h). An X-macro so
 * that names and indices cannot drift apart. Append only: user space reads
 * by index.
 */
#pragma once

/* clang-format off */
#define COUNTER_LIST(X)                                                          \
	X(IPI_SENT, "ipi_sent")                  /* all vectors */                  \
	X(IPI_RECV, "ipi_recv")                                                     \
	X(IPI_SENT_CALL, "ipi_sent_call")        /* call-function */                \
	X(IPI_RECV_CALL, "ipi_recv_call")                                           \
	X(IPI_SENT_RESCHED, "ipi_sent_resched")                                     \
	X(IPI_RECV_RESCHED, "ipi_recv_resched")                                     \
	X(IPI_SENT_TLB, "ipi_sent_tlb")                                             \
	X(IPI_RECV_TLB, "ipi_recv_tlb")                                             \
	X(IPI_SENT_NMI, "ipi_sent_nmi")                                             \
	X(IPI_RECV_NMI, "ipi_recv_nmi")                                             \
	X(TIMER_IRQ, "timer_irq")                                                   \
	X(SYSCALL, "syscall")                                                       \
	X(CTX_SWITCH, "ctx_switch")                                                 \
	X(CR3_WRITE, "cr3_write")                                                   \
	X(CR3_WRITE_NOFLUSH, "cr3_write_noflush")                                   \
	X(INVLPG, "invlpg")                                                         \
	X(INVPCID, "invpcid")                                                       \
	X(TLB_FLUSH_FULL, "tlb_flush_full")      /* sum of the reasons below */      \
	X(TLB_FULL_CEILING, "tlb_full_ceiling")  /* range above flush_ceiling */     \
	X(TLB_FULL_GEN_GAP, "tlb_full_gen_gap")  /* more than one generation behind */\
	X(TLB_FULL_ASID_NEW, "tlb_full_asid_new")  /* slot evicted or new */        \
	X(TLB_FULL_REQUEST, "tlb_full_request")  /* caller asked for everything */   \
	X(TLB_FULL_NOPCID, "tlb_full_nopcid")    /* CR3 write without PCID */       \
	X(TLB_FULL_KFLUSH, "tlb_full_kflush")    /* a kernel flush's catch-up flushed the PCID */\
	X(TLB_FLUSH_PAGES, "tlb_flush_pages")    /* range flushes (requests) */     \
	X(TLB_PAGES_FLUSHED, "tlb_pages_flushed") /* pages flushed by them */       \
	X(TLB_FLUSH_SKIPPED, "tlb_flush_skipped") /* already at new_gen */          \
	X(TLB_SHOOTDOWN, "tlb_shootdown")        /* requests that needed IPIs */    \
	X(TLB_LAZY_SKIP, "tlb_lazy_skip")        /* lazy CPUs not interrupted */    \
	X(TLB_LAZY_ENTER, "tlb_lazy_enter")                                         \
	X(TLB_LAZY_CATCHUP, "tlb_lazy_catchup")  /* leaving lazy needed a flush */   \
	X(ASID_HIT, "asid_hit")                                                     \
	X(ASID_MISS, "asid_miss")                                                   \
	X(ASID_EVICT, "asid_evict")                                                 \
	X(PTI_USER_STALE, "pti_user_stale")      /* user PCID marked stale */        \
	X(PTI_FLUSH_FULL, "pti_flush_full")      /* deferred user flush: full */     \
	X(PTI_FLUSH_PRECISE, "pti_flush_precise") /* deferred user flush: queued */  \
	X(PTI_QUEUE_OVERFLOW, "pti_queue_overflow")                                 \
	X(PTI_FULL_FREED_TABLES, "pti_full_freed_tables") /* precise, but tables freed */\
	X(KFLUSH_DEFERRED, "kflush_deferred")    /* targets skipped by initiator */  \
	X(KFLUSH_IPI, "kflush_ipi")                                                 \
	X(KFLUSH_CATCHUP, "kflush_catchup")      /* consumed at kernel entry */      \
	X(KFLUSH_RING_RACE, "kflush_ring_race")  /* ring entry overwritten mid-read */\
	X(KFLUSH_ROUND, "kflush_round")          /* kernel flushes (1 per batch) */   \
	X(XSAVE, "xsave")                                                           \
	X(XRSTOR, "xrstor")                                                         \
	X(XRSTOR_SKIPPED, "xrstor_skipped")                                         \
	X(XFD_FAULT, "xfd_fault")                                                   \
	X(XFD_WRITE, "xfd_msr_write")                                               \
	X(XFD_WRITE_AVOIDED, "xfd_msr_write_avoided")                               \
	X(XCR0_WRITE, "xcr0_write")              /* AMX without XFD */               \
	X(PASID_WRITE, "pasid_write")                                               \
	X(PASID_WRITE_AVOIDED, "pasid_write_avoided")                               \
	X(PASID_RESYNC_IPI, "pasid_resync_ipi")                                     \
	X(PASID_RESYNC, "pasid_resync")                                             \
	X(MEMBARRIER_IPI, "membarrier_ipi")                                         \
	X(SYNC_CORE, "sync_core")                /* membarrier serializations */    \
	X(PAGE_FAULT, "page_fault")                                                 \
	X(PAGE_FAULT_USER, "page_fault_user")                                       \
	X(IPC_FASTPATH, "ipc_fastpath")                                             \
	X(IPC_SLOWPATH, "ipc_slowpath")                                             \
	X(MSR_WRITE, "msr_write")                                                   \
	X(SCHED_MIGRATE, "sched_migrate")                                           \
	X(SCHED_STEAL, "sched_steal")                                               \
	X(WAKE_REMOTE, "wake_remote")                                               \
	X(TRACE_EVENTS, "trace_events")          /* records written (kernel/trace.c) */\
	X(TRACE_DROPPED, "trace_dropped")        /* records overwritten unread */\
	X(FRAME_LOCAL, "frame_alloc_local")      /* from the allocating CPU's node */\
	X(FRAME_REMOTE, "frame_alloc_remote")    /* from another node (asked or fallback) */\
	X(FRAME_CACHE_REFILL, "frame_cache_refill") /* a CPU's page cache took a batch from its zone */\
	X(FRAME_CACHE_SPILL, "frame_cache_spill") /* ...gave a batch back (above its high mark) */\
	X(FRAME_CACHE_DRAIN_ALL, "frame_cache_drain_all") /* every cache given back (out of memory, tests) */\
	X(FRAME_CACHE_DRAINED, "frame_cache_drained") /* ...caches it locked: count read non-zero (the others: no lock) */\
	X(KILL_BEFORE_BLOCK, "kill_before_block") /* killable waits refused: kill pending */\
	X(IPC_SWITCH_FALLBACK, "ipc_switch_fallback") /* direct switch target no longer blocked */\
	X(KFLUSH_CATCHUP_IRQ, "kflush_catchup_irq") /* idle CPU caught up before its handler */\
	X(DEBUG_KERNEL_STEP, "debug_kernel_step") /* user-armed single step landed in the kernel */\
	X(RETURN_NONCANONICAL_IRQ, "return_noncanonical_irq") /* an interrupt from user mode at 0x800000000000: its #GP given */\
	X(RETURN_NONCANONICAL_NMI, "return_noncanonical_nmi") /* the same for an NMI (arch/x86/entry.S) */\
	X(NMI_TEST, "nmi_test")                  /* NMIs sent by SYST_SEND_NMI, handled */\
	X(LOCKUP_STARVED, "lockup_starved")      /* silent CPUs that ticked again: not blamed */\
	X(KFLUSH_IPI_ARG_FRESH, "kflush_ipi_arg_fresh") /* IPI read vmalloc memory just caught up */\
	X(PAGE_WALKS, "page_walks")              /* TLB misses that walked (emulator) */\
	X(PAGE_WALKS_DATA_USER, "page_walks_data_user")     /* below: its four kinds */\
	X(PAGE_WALKS_DATA_KERNEL, "page_walks_data_kernel")                         \
	X(PAGE_WALKS_INSN_USER, "page_walks_insn_user")                             \
	X(PAGE_WALKS_INSN_KERNEL, "page_walks_insn_kernel")                     \
	X(HANDLE_XFER, "handle_xfer")            /* handles delivered in IPC messages */\
	X(HANDLE_RACE, "handle_race")            /* lookups that lost to a concurrent close */\
	X(MEMOBJ_REVOKE, "memobj_revoke")        /* memory-object revocations */\
	X(MEMOBJ_REVOKE_MM, "memobj_revoke_mm")  /* address spaces a revocation unmapped */\
	X(IRQ_USER, "irq_user")                  /* interrupts delivered to a user IRQ object */\
	X(IRQ_USER_ACK, "irq_user_ack")          /* ...acknowledged (line unmasked) */\
	X(IOPORT_LOAD, "ioport_bitmap_load")     /* I/O bitmap copied into a TSS */\
	X(IPC_FUSED, "ipc_fused")                /* hand-overs by the fused fast path (also in ipc_fastpath) */\
	X(IPC_FUSED_MISS, "ipc_fused_miss")      /* calls it left to the general path */\
	X(AMX_FIRST_USE_UD, "amx_first_use_ud")  /* no XFD: a tile instruction grew its thread */\
	X(PTI_CR3, "pti_cr3")  /* PTI entry/fast-exit CR3 writes (also in cr3_write; in _noflush with PCIDs) */\
	X(XRSTOR_INLINE, "xrstor_inline") /* the exit's inline XRSTORS (also in xrstor; with XFD in xfd_msr_write_avoided) */\
	X(MM_LOCK_BREAK, "mm_lock_break")        /* long unmaps/protects/revocations let go of mm->lock */\
	X(MM_OP_WAIT, "mm_op_wait")              /* ...and operations that waited for one's VMAs */\
	X(TLB_FULL_DEFERRED, "tlb_full_deferred") /* requests made full by a deferred flush (mm/tlb.c) */\
	X(MM_SWITCH_FAST, "mm_switch_fast") /* inline address-space switches (also in asid_hit, cr3_write, cr3_write_noflush) */\
	X(MEMOBJ_REVOKE_OVERLAP, "memobj_revoke_overlap") /* spaces a revocation flushed whole: another was in flight */\
	X(FBCON_SCROLL, "fbcon_scroll")          /* framebuffer console scrolls (each one move of the screen) */
/* clang-format on */

enum counter_id {
#define COUNTER_ENUM(id, name) CNT_##id,
	COUNTER_LIST(COUNTER_ENUM)
#undef COUNTER_ENUM
		NR_COUNTERS
};
