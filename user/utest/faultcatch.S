/*
 * A call that may end in a diverted fault, for the tests that provoke one
 * exception on purpose (t_icache.c, t_movss.c; t_iogp.c keeps its own,
 * which says why). The kernel's
 * test diversion (SYST_FAULT_CATCH, include/uapi/test.h) resumes a faulting
 * thread at a given RIP with a given RSP and RDI = its record; fc_catch is
 * that RIP, and it unwinds to the fc_run() in progress:
 *
 * uint64_t fc_run(uint64_t (*body)(void),
 *                 uint64_t (*on_fault)(const struct syst_fault_rec *))
 *   calls body (C or assembly). If body returns, fc_run returns its value.
 *   If a fault in it is diverted to fc_catch, on_fault is called there
 *   first thing, on the catch stack, with the record, and fc_run returns
 *   on_fault's value, its stack and callee-saved registers as it found
 *   them.
 *
 * One fc_run at a time in a process: the context is in this file's data
 * (a test that needs a diversion on another thread has its own: t_movss.c).
 * The caller arms the diversion with fc_catch and its catch stack, 16-byte
 * aligned at the top, and clears the record's busy word before each call.
 */
	.data
	.balign 8
fc_saved_rsp:
	.quad 0
fc_on_fault:
	.quad 0

	.text
	.globl fc_run
	.type fc_run, @function
fc_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	subq $8, %rsp			/* RSP 16-byte aligned for the call */
	movq %rsp, fc_saved_rsp(%rip)
	movq %rsi, fc_on_fault(%rip)
	call *%rdi
fc_unwind:
	addq $8, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret
	.size fc_run, . - fc_run

	.globl fc_catch
	.type fc_catch, @function
fc_catch:				/* RDI = the record, RSP = the catch stack's top */
	call *fc_on_fault(%rip)
	movq fc_saved_rsp(%rip), %rsp
	jmp fc_unwind
	.size fc_catch, . - fc_catch
