/*
 * Segment descriptors, TSS and IDT.
 *
 * GDT (per CPU, in the entry page so PTI's user root maps it):
 *   0x00 null, 0x08 kernel code (64-bit), 0x10 kernel data,
 *   0x18 user data, 0x20 user code (64-bit) — the order SYSRET requires
 *   (SDM Vol. 2B SYSRET: CS = STAR[63:48]+16, SS = STAR[63:48]+8) —
 *   0x28 TSS (16-byte system descriptor).
 * IDT: one table shared by all CPUs, every vector pointing at its stub in
 * arch/x86/entry.S; NMI, #DF, #MC and #DB on their own IST stacks so that a
 * fault on a broken kernel stack still reports.
 */
#include "arch/x86/desc.h"
#include "arch/trap.h"
#include "arch/x86/cpu.h"
#include "lib/percpu.h"
#include "lib/string.h"
#include "arch/ioperm.h"
#include "lib/spinlock.h" /* assert_irqs_off */
#include "include/uapi/counter_ids.h"

/* The TSS segment runs to the bitmap's trailing 0xff byte; the I/O map
 * base is an offset from the TSS's start (SDM Vol. 3A 9.7). */
#define TSS_IOMAP_OFF \
	(offsetof(struct percpu_entry, io_bitmap) - offsetof(struct percpu_entry, tss))
#define TSS_LIMIT      (TSS_IOMAP_OFF + IO_BITMAP_BYTES)
#define TSS_IOMAP_NONE (TSS_LIMIT + 1) /* beyond the limit: no bitmap, every port #GPs */
_Static_assert(TSS_LIMIT < 0xfffff && TSS_IOMAP_NONE <= 0xffff, "TSS limit and I/O map base fit");

struct idt_gate {
	uint16_t off_lo;
	uint16_t sel;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t off_mid;
	uint32_t off_hi;
	uint32_t zero;
} __packed;
_Static_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

struct desc_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

static struct idt_gate idt[256] __aligned(4096);
static struct idt_gate *idt_live = idt;

extern const char vector_stubs[];

#define GATE_INTERRUPT 0x8e /* present, DPL 0, 64-bit interrupt gate */
#define GATE_USER_INT  0xee /* present, DPL 3 (reachable by INT n from user) */

static void set_gate(int vec, uint8_t ist, uint8_t attr)
{
	uint64_t off = (uint64_t)vector_stubs + (uint64_t)vec * 16;

	idt[vec] = (struct idt_gate){
		.off_lo = (uint16_t)off,
		.sel = SEL_KCODE,
		.ist = ist,
		.type_attr = attr,
		.off_mid = (uint16_t)(off >> 16),
		.off_hi = (uint32_t)(off >> 32),
	};
}

void idt_init(void)
{
	for (int v = 0; v < 256; v++)
		set_gate(v, 0, GATE_INTERRUPT);
	set_gate(VEC_NMI, IST_NMI, GATE_INTERRUPT);
	set_gate(VEC_DF, IST_DF, GATE_INTERRUPT);
	set_gate(VEC_MC, IST_MC, GATE_INTERRUPT);
	set_gate(VEC_DB, IST_DB, GATE_INTERRUPT);
	/* int3 from user space is an ordinary trap, reported like any other. */
	set_gate(VEC_BP, 0, GATE_USER_INT);
	idt_load();
}

void idt_load(void)
{
	struct desc_ptr p = { sizeof(idt) - 1, (uint64_t)idt_live };

	__asm__ __volatile__("lidt %0" ::"m"(p));
}

void *idt_page(void)
{
	return idt;
}

/* Death test death_double_fault only: this CPU loads a copy of the IDT in
 * which vec's gate is not present, so that delivering vec raises #NP. */
void idt_load_test_copy_without(int vec)
{
	static struct idt_gate copy[256] __aligned(4096);
	struct desc_ptr p = { sizeof(copy) - 1, (uint64_t)copy };

	memcpy(copy, idt, sizeof(copy));
	copy[vec].type_attr &= (uint8_t)~0x80; /* P */
	__asm__ __volatile__("lidt %0" ::"m"(p));
}

void idt_move_to_entry_area(void *alias)
{
	idt_live = alias;
	idt_load();
}

static uint64_t seg_desc(uint32_t flags_access)
{
	/* base 0, limit 0xfffff; access byte at bits 40..47, flags at 52..55 */
	return 0x000f00000000ffffull | ((uint64_t)flags_access << 40);
}

void gdt_tss_init(struct percpu *pc, bool ist_stacks)
{
	struct percpu_entry *e = &pc->entry;
	uint64_t tss = (uint64_t)&e->tss;
	uint64_t limit = TSS_LIMIT;

	e->gdt[0] = 0;
	e->gdt[SEL_KCODE / 8] = seg_desc(0xa09a); /* L=1, P, DPL0, code RX */
	e->gdt[SEL_KDATA / 8] = seg_desc(0xc092); /* P, DPL0, data RW */
	e->gdt[SEL_UDATA / 8] = seg_desc(0xc0f2); /* P, DPL3, data RW */
	e->gdt[SEL_UCODE / 8] = seg_desc(0xa0fa); /* L=1, P, DPL3, code RX */
	e->gdt[SEL_TSS / 8] = (limit & 0xffff) | ((tss & 0xffffff) << 16) |
			      (0x89ull << 40) /* P, 64-bit TSS available */ |
			      ((limit >> 16) & 0xf) << 48 | ((tss >> 24) & 0xff) << 56;
	e->gdt[SEL_TSS / 8 + 1] = tss >> 32;

	memset(&e->tss, 0, sizeof(e->tss));
	e->tss.iomap_base = TSS_IOMAP_NONE; /* no I/O bitmap: user has no port access */
	memset(e->io_bitmap, 0xff, sizeof(e->io_bitmap));
	if (ist_stacks) {
		uint64_t base = (uint64_t)pc;

		e->tss.ist[IST_NMI - 1] = base + PERCPU_NMI_STACK + PERCPU_STACK_SIZE;
		e->tss.ist[IST_DF - 1] = base + PERCPU_DF_STACK + PERCPU_STACK_SIZE;
		e->tss.ist[IST_MC - 1] = base + PERCPU_MC_STACK + PERCPU_STACK_SIZE;
		e->tss.ist[IST_DB - 1] = base + PERCPU_DB_STACK + PERCPU_STACK_SIZE;
	}

	struct desc_ptr p = { sizeof(e->gdt) - 1, (uint64_t)e->gdt };

	__asm__ __volatile__("lgdt %0\n\t"
			     "pushq %1\n\t"
			     "leaq 1f(%%rip), %%rax\n\t"
			     "pushq %%rax\n\t"
			     "lretq\n"
			     "1:\n\t"
			     "movl %2, %%eax\n\t"
			     "movl %%eax, %%ds\n\t"
			     "movl %%eax, %%es\n\t"
			     "movl %%eax, %%ss\n\t"
			     "xorl %%eax, %%eax\n\t"
			     "movl %%eax, %%fs\n\t" ::"m"(p),
			     "i"((uint64_t)SEL_KCODE), "i"(SEL_KDATA)
			     : "rax", "memory");
	/* Loading GS's selector would clear the GS base: leave GS alone. */
	__asm__ __volatile__("ltr %w0" ::"r"(SEL_TSS) : "memory");
	/* No LDT. After reset LDTR is a usable table at base 0, limit 0xffff
	 * (SDM Vol. 3A 10.1.1, Table 10-1), and firmware and GRUB leave it
	 * so: a selector with TI set would then read its descriptor from user
	 * memory. A null selector makes every LDT reference #GP (SDM Vol. 2A
	 * LLDT; regression ldtr_left_by_firmware). */
	__asm__ __volatile__("lldt %w0" ::"r"(0) : "memory");
}

void tss_set_rsp0(uint64_t rsp0)
{
	this_cpu()->entry.tss.rsp[0] = rsp0;
}

void arch_io_bitmap_switch(uint64_t key, const uint8_t *bits)
{
	struct percpu_entry *e = &this_cpu()->entry;

	assert_irqs_off();
	/* The CPU reads the base and the bitmap from memory at each IN/OUT
	 * (only the TSS's base and limit are cached in TR): plain stores,
	 * visible to this CPU's next user instruction. */
	if (key && bits) {
		memcpy(e->io_bitmap, bits, IO_BITMAP_BYTES);
		e->tss.iomap_base = TSS_IOMAP_OFF;
		this_cpu_inc(counters[CNT_IOPORT_LOAD]);
	} else {
		e->tss.iomap_base = TSS_IOMAP_NONE;
	}
	this_cpu_write(io_key, key);
}
