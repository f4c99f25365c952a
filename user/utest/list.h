/*
 * The user-level tests (init runs them in this order) and the helper roles
 * a test can start as a child process. Both are "utest <name> [args]".
 */
#pragma once

/* clang-format off */
#define UTEST_LIST(X)                \
	X(syscall_basics)            \
	X(boot_report_via_kinfo)     \
	X(bad_syscall_args)          \
	X(malformed_elf_refused)     \
	X(exit_and_wait_codes)       \
	X(thread_join_codes)         \
	X(concurrent_wait_same_child) \
	X(fault_kills_process)       \
	X(kill_running_process)      \
	X(threads_yield_sleep_futex) \
	X(affinity_honoured)         \
	X(expired_slice_starves_newcomer) \
	X(map_unmap_protect)         \
	X(unmap_huge_sparse_range)   \
	X(ipc_pingpong_same_cpu)     \
	X(ipc_fused_equals_general)  \
	X(ipc_pingpong_cross_cpu)    \
	X(ipc_switch_vs_migrating_wake) \
	X(ipc_pair_does_not_starve_cpu) \
	X(ipc_create_without_handle) \
	X(ipc_wait_done_races_the_wakers_block) \
	X(handle_forged_refused)     \
	X(handle_rights_enforced)    \
	X(handle_moved_in_message)   \
	X(ipc_fused_moves_handles)   \
	X(test_hooks_need_hwres)     \
	X(shm_rights_and_mappings)   \
	X(shm_revoke_unreadable_everywhere) \
	X(serial_driver_output)      \
	X(ioport_without_cap_gp)     \
	X(irq_object_protocol)       \
	X(serial_driver_kill_restart) \
	X(cpu_protections)           \
	X(user_single_step)          \
	X(user_int1_int3_into)       \
	X(user_gsbase_kernel_half)   \
	X(syscall_return_noncanonical) \
	X(iret_to_noncanonical_rip)  \
	X(ldtr_left_by_firmware)     \
	X(mm_invariants)             \
	X(tlb_torture)               \
	X(asid_churn)                \
	X(lazy_shootdown_no_ipis)    \
	X(kernel_unmap_deferred)     \
	X(kflush_idle_ipi_reads_flushed) \
	X(stale_reads)               \
	X(pasid_bind_unbind)         \
	X(pasid_change_running)      \
	X(pasid_exhaustion_clean)    \
	X(membarrier_commands)       \
	X(membarrier_ipis_only_to_mm) \
	X(membarrier_store_buffer)   \
	X(membarrier_sync_core)      \
	X(vector_regs_preserved)     \
	X(xstate_migration_stress)   \
	X(amx_refused)               \
	X(amx_tiles_preserved)       \
	X(amx_first_use_in_older_thread) \
	X(ud_blamed_on_amx)          \
	X(trace_events_recorded)     \
	X(resource_exhaustion_clean) \
	X(exhaustion_sweep)          \
	X(no_leaks_after_exit)       \
	X(kill_of_non_child_refused) \
	X(kill_before_block)         \
	X(kill_during_blocking_calls) \
	X(kill_single_threads)       \
	X(kill_handle_holders)       \
	X(ipc_direct_switch_vs_kill) \
	X(finish_switch_vs_exit_elsewhere) \
	X(idle_watchdog_reports)     \
	X(fuzz_bad_ptr_wraps_to_user) \
	X(syscall_fuzz)              \
	X(handle_fuzz)               \
	X(cpu_fuzz_harness_out_of_reach) \
	X(cpu_fuzz)

#define ROLE_LIST(X)            \
	X(role_exit)            \
	X(role_segv)            \
	X(role_gp)              \
	X(role_ud)              \
	X(role_wild_jump)       \
	X(role_spin)            \
	X(role_ipc_server)      \
	X(role_threads_crash)   \
	X(role_sgdt)            \
	X(role_ring)            \
	X(tlb_inject_workload)  \
	X(role_amx_noperm)      \
	X(role_ud_amx_perm)     \
	X(role_amx_older_thread) \
	X(role_pasid_hold)      \
	X(role_fuzz)            \
	X(role_kill_parent)     \
	X(role_sleep)           \
	X(role_blockers)        \
	X(role_ipc_victim)      \
	X(role_entry)           \
	X(role_last_page_syscall)      \
	X(role_stale_hog)       \
	X(role_stale_as)         \
	X(role_cpufuzz)         \
	X(role_ldt_probe)       \
	X(role_thread_victims)  \
	X(role_ep_server)       \
	X(role_ep_client)       \
	X(role_cpufuzz_kill)     \
	X(role_forger)          \
	X(role_rights)          \
	X(role_test_hooks)      \
	X(role_cap_echo)        \
	X(role_cap_return)      \
	X(role_shm_reader)      \
	X(role_shm_touch)       \
	X(role_port_probe)      \
	X(role_irq_waiter)      \
	X(role_hfuzz)           \
	X(role_hfuzz_peer)
/* clang-format on */
