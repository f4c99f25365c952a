/*
 * Static branches: the boot's one patch of every site (protocol and rule:
 * arch/static_branch.h).
 *
 * Each site is compiled as JMP rel32 (opcode E9) to the test of its flag.
 * Patching writes the five bytes of its replacement through the direct
 * map's alias of the kernel image (RW, NX; the text mapping stays RX):
 * JMP rel32 to the true branch, or the 5-byte NOP 0F 1F 44 00 00. A site
 * that does not hold the compiled JMP, or a branch out of rel32's reach,
 * stops the boot: the table and the text disagree. The writes are read
 * back through the text mapping (same physical bytes), then CPUID
 * serializes this CPU (SDM Vol. 3A 8.1.3: code written through another
 * linear address is fetched anew after a serializing instruction); the
 * other CPUs start later and fetch the patched text.
 *
 * Only one CPU runs and interrupts are off: no site executes while it is
 * written. No NMI can come either: this kernel's NMIs are sent by other
 * CPUs (the panic stop, the lock-up detector's backtraces), and none has
 * started. After this call the table is read only by the ktest.
 */
#include "arch/static_branch.h"
#include "arch/layout.h"
#include "arch/cpu.h"
#include "arch/x86/cpu.h"
#include "lib/panic.h"
#include "lib/printk.h"
#include "lib/string.h"

unsigned int static_branches_taken, static_branches_not_taken;
static bool applied;

static const uint8_t nop5[5] = { 0x0f, 0x1f, 0x44, 0x00, 0x00 };

/* What site s holds once patched for its flag's value now. */
static void patched_insn(const struct static_branch_site *s, uint8_t insn[5])
{
	int32_t r32 = (int32_t)(s->taken - (s->code + 5));

	if (*s->flag) {
		insn[0] = 0xe9;
		memcpy(&insn[1], &r32, sizeof(r32));
	} else {
		memcpy(insn, nop5, sizeof(nop5));
	}
}

void static_branches_apply(void)
{
	BUG_ON(applied);
	BUG_ON(read_rflags() & RFLAGS_IF);
	for (const struct static_branch_site *s = __static_branch_start; s < __static_branch_end;
	     s++) {
		uint8_t *text = (uint8_t *)s->code;
		uint8_t insn[5];
		int64_t rel = (int64_t)(s->taken - (s->code + 5));

		if (text[0] != 0xe9 || rel != (int32_t)rel)
			panic("static branch at %#lx: not the compiled JMP rel32 (%#x) or the "
			      "branch to %#lx out of reach",
			      s->code, text[0], s->taken);
		patched_insn(s, insn);
		if (*s->flag)
			static_branches_taken++;
		else
			static_branches_not_taken++;
		memcpy(phys_to_virt(kimage_to_phys(text)), insn, sizeof(insn));
		if (memcmp(text, insn, sizeof(insn)) != 0)
			panic("static branch at %#lx: the write did not reach the text", s->code);
	}
	(void)cpuid(0); /* serializing: this CPU fetches the new bytes */
	applied = true;
	pr_info("static branches: %u sites, %u patched to their branch, %u to a NOP",
		static_branches_taken + static_branches_not_taken, static_branches_taken,
		static_branches_not_taken);
}

int static_branches_check(void)
{
	int bad = 0;

	for (const struct static_branch_site *s = __static_branch_start; s < __static_branch_end;
	     s++) {
		uint8_t insn[5];

		patched_insn(s, insn);
		if (memcmp((const void *)s->code, insn, sizeof(insn)) == 0)
			continue;
		if (!bad++)
			pr_err("static branch at %#lx (flag at %p, now %d) holds %02x %02x %02x %02x "
			       "%02x",
			       s->code, (const void *)s->flag, *s->flag,
			       ((const uint8_t *)s->code)[0], ((const uint8_t *)s->code)[1],
			       ((const uint8_t *)s->code)[2], ((const uint8_t *)s->code)[3],
			       ((const uint8_t *)s->code)[4]);
	}
	return bad;
}
