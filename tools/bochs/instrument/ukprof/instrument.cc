// ukprof: counts executed instructions per address between two markers
// executed by the guest, for the path-length profiler (tools/pathprof.py).
//
// Markers. Three 8-byte NOPs, `nopl MAGIC(%rax,%rax,1)` (0f 1f 84 00 and
// the magic as a little-endian displacement), emitted by user/bench/bench.c:
//   START  0x556b5001  a timed batch begins
//   STOP   0x556b5002  it ends; RAX = operations the batch executed, RDX =
//                      hardware interrupts each operation takes itself
//   DONE   0x556b5003  the operation's timed batches are over; RDI, RSI,
//                      RDX, RCX hold its name (32 bytes, NUL padded)
// They are unprivileged and do nothing on any CPU; here the decoded
// instruction (opcode NOP, length 8, memory form, the displacement) is
// checked before every instruction executes.
//
// Counting. Between START and STOP every executed instruction adds one to
// its site; a repeated string instruction adds one per iteration, which is
// how Bochs advances the TSC (cpu/cpu.cc repeat(); with repeat speedups
// one iteration callback can stand for many, seen in how far RCX moved).
// A site is (RIP, address space): kernel addresses (the upper half) share
// one space, 0; a user address is tagged with its CR3 root, the PCID bits
// and the PTI bit 12 masked off, so that tools/pathprof.py can tell the
// programs apart. A batch that halted, or took another number of hardware
// interrupts than its operations take themselves (none but for an
// operation that is an interrupt, irq_to_user: one each), is counted (its
// totals are written) but its sites are dropped: a timer tick inside is
// an outlier, which the benchmark's median ignores too.
//
// Output. $UKPROF_OUT (no output and no counting when unset), appended to
// at each DONE:
//   op <name>
//   batch <ops> <insns> <ticks> <hwint> <hlt> <exceptions> <kept 0|1>
//   site <rip hex> <space hex> <count>
//   end
// ticks: the emulator's own clock over the batch (the guest TSC advances
// with it; with one CPU one tick per instruction), a check on insns.
//
// Only the CPU that executed START counts; path lengths are taken with one
// CPU (README "Benchmarks").
//
// Snapshot (a debugging aid, independent of the markers): where a hung
// guest spins, seen without changing one guest instruction (a printk or a
// changed line of the program under test can move the hang away).
// $UKPROF_SNAPSHOT="<tick> <n>": once the emulator's clock passes <tick>
// (bx_pc_system.time_ticks(), ips per emulated second), each CPU's next <n>
// instructions are counted per site, with the exceptions and hardware
// interrupts they take; at the first, its registers, 40 stack words and
// the RBP frame chain are printed; after the n-th, the 60 busiest sites,
// the exceptions and interrupts by vector and RIP, and the activity state.
// Written to $UKPROF_SNAPSHOT_OUT (default stderr, which tools/runner.py
// discards), lines "ukprof-snapshot: cpu N ..."; a CPU short of n
// instructions when the emulator exits is printed with what it has.

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <string>
#include <unordered_map>
#include <vector>

#include "bochs.h"
#include "cpu/cpu.h"
#include "cpu/decoder/ia_opcodes.h"
#include "pc_system.h"
#include "memory/memory-bochs.h"

namespace {

const Bit32u MARK_START = 0x556b5001, MARK_STOP = 0x556b5002, MARK_DONE = 0x556b5003;
const Bit64u KERNEL_HALF = 0xffff800000000000ull;
const Bit64u CR3_ROOT_MASK = ~0x1fffull; // PCID (11:0) and the PTI bit (12)

struct Site {
  Bit64u rip, space;
  bool operator==(const Site &o) const { return rip == o.rip && space == o.space; }
};

struct SiteHash {
  size_t operator()(const Site &s) const {
    return (size_t)((s.rip * 0x9e3779b97f4a7c15ull) ^ (s.space >> 12));
  }
};

typedef std::unordered_map<Site, Bit64u, SiteHash> SiteMap;

struct Batch {
  Bit64u ops, insns, ticks, hwint, hlt, exc;
  bool kept;
};

struct CpuState {
  bool active;
  Bit64u insns, ticks0, hwint, hlt, exc;
  SiteMap batch; // this batch
  SiteMap kept;  // the kept batches of the current operation
  std::vector<Batch> batches;
  // the repeated string instruction being executed
  Bit64u *rep_site;
  Bit64u rep_rcx;
  bool rep_first;
};

FILE *out;
CpuState *state;
unsigned nr_state;

Bit64u now_ticks(unsigned cpu)
{
  Bit64u t = bx_pc_system.time_ticks();
#if BX_SUPPORT_HANDLERS_CHAINING_SPEEDUPS
  // instructions of the current trace not yet added to the clock
  t += BX_CPU(cpu)->get_icount() - BX_CPU(cpu)->get_icount_last_sync();
#endif
  return t;
}

Bit64u reg(unsigned cpu, unsigned r)
{
  return BX_CPU(cpu)->gen_reg[r].rrx;
}

Bit64u rep_count(unsigned cpu, bxInstruction_c *i)
{
  Bit64u rcx = reg(cpu, BX_64BIT_REG_RCX);

  if (i->as64L())
    return rcx;
  return i->as32L() ? (rcx & 0xffffffffull) : (rcx & 0xffffull);
}

void mark_start(unsigned cpu, CpuState &s)
{
  s.active = true;
  s.insns = s.hwint = s.hlt = s.exc = 0;
  s.batch.clear();
  s.rep_site = NULL;
  s.ticks0 = now_ticks(cpu);
}

void mark_stop(unsigned cpu, CpuState &s)
{
  Batch b;

  if (!s.active)
    return;
  s.active = false;
  b.ops = reg(cpu, BX_64BIT_REG_RAX);
  b.insns = s.insns;
  b.ticks = now_ticks(cpu) - s.ticks0;
  b.hwint = s.hwint;
  b.hlt = s.hlt;
  b.exc = s.exc;
  b.kept = b.ops && b.hwint == b.ops * reg(cpu, BX_64BIT_REG_RDX) && !b.hlt;
  if (b.kept) {
    for (SiteMap::const_iterator it = s.batch.begin(); it != s.batch.end(); ++it)
      s.kept[it->first] += it->second;
  }
  s.batch.clear();
  s.batches.push_back(b);
}

void mark_done(unsigned cpu, CpuState &s)
{
  static const unsigned regs[4] = { BX_64BIT_REG_RDI, BX_64BIT_REG_RSI, BX_64BIT_REG_RDX,
                                    BX_64BIT_REG_RCX };
  char name[33];

  for (unsigned w = 0; w < 4; w++) {
    Bit64u v = reg(cpu, regs[w]);
    for (unsigned b = 0; b < 8; b++)
      name[w * 8 + b] = (char)(v >> (8 * b));
  }
  name[32] = 0;
  for (char *p = name; *p; p++)
    if (*p <= ' ' || *p > '~')
      *p = '?';
  fprintf(out, "op %s\n", name[0] ? name : "?");
  for (size_t k = 0; k < s.batches.size(); k++) {
    const Batch &b = s.batches[k];
    fprintf(out, "batch %llu %llu %llu %llu %llu %llu %d\n", (unsigned long long)b.ops,
            (unsigned long long)b.insns, (unsigned long long)b.ticks,
            (unsigned long long)b.hwint, (unsigned long long)b.hlt,
            (unsigned long long)b.exc, b.kept ? 1 : 0);
  }
  for (SiteMap::const_iterator it = s.kept.begin(); it != s.kept.end(); ++it)
    fprintf(out, "site %llx %llx %llu\n", (unsigned long long)it->first.rip,
            (unsigned long long)it->first.space, (unsigned long long)it->second);
  fprintf(out, "end\n");
  fflush(out);
  s.kept.clear();
  s.batches.clear();
  s.active = false;
}

// Snapshot mode ($UKPROF_SNAPSHOT="<ticks> <insns>"): once the emulator's
// clock passes <ticks>, each CPU's next <insns> instructions are counted
// per (RIP, address space) and printed to $UKPROF_SNAPSHOT_OUT (default
// stderr), the most frequent first, with the registers at the first: where
// a hung guest spins, seen without changing a single guest instruction.
Bit64u snap_at, snap_len;
FILE *snap_out;
struct Snap {
  std::unordered_map<std::string, Bit64u> exc, irq;
  SiteMap sites;
  Bit64u n;
  bool printed;
};
Snap *snaps;

void snap_print(unsigned cpu, Snap &sn)
{
  std::vector<std::pair<Bit64u, Site> > v;
  for (SiteMap::iterator it = sn.sites.begin(); it != sn.sites.end(); ++it)
    v.push_back(std::make_pair(it->second, it->first));
  std::sort(v.begin(), v.end(), [](const std::pair<Bit64u, Site> &a, const std::pair<Bit64u, Site> &b) { return a.first > b.first; });
  fprintf(snap_out, "ukprof-snapshot: cpu %u, %llu instructions from tick %llu, %zu sites\n", cpu,
          (unsigned long long)sn.n, (unsigned long long)snap_at, v.size());
  for (size_t k = 0; k < v.size() && k < 60; k++)
    fprintf(snap_out, "ukprof-snapshot: cpu %u site %016llx space %llx count %llu\n", cpu,
            (unsigned long long)v[k].second.rip, (unsigned long long)v[k].second.space,
            (unsigned long long)v[k].first);
  for (std::unordered_map<std::string, Bit64u>::iterator it = sn.exc.begin(); it != sn.exc.end(); ++it)
    fprintf(snap_out, "ukprof-snapshot: cpu %u exception %s count %llu\n", cpu, it->first.c_str(), (unsigned long long)it->second);
  for (std::unordered_map<std::string, Bit64u>::iterator it = sn.irq.begin(); it != sn.irq.end(); ++it)
    fprintf(snap_out, "ukprof-snapshot: cpu %u hwint %s count %llu\n", cpu, it->first.c_str(), (unsigned long long)it->second);
  fprintf(snap_out, "ukprof-snapshot: cpu %u activity %u ticks now %llu\n", cpu, (unsigned)BX_CPU(cpu)->activity_state, (unsigned long long)bx_pc_system.time_ticks());
  fflush(snap_out);
  sn.printed = true;
}

bool snap_on(unsigned cpu)
{
  return snaps && snap_len && !snaps[cpu].printed && bx_pc_system.time_ticks() >= snap_at;
}

void snap_regs(unsigned cpu)
{
  BX_CPU_C *c = BX_CPU(cpu);
  fprintf(snap_out, "ukprof-snapshot: cpu %u regs rip %016llx rsp %016llx rax %016llx rbx %016llx rcx %016llx rdx %016llx rsi %016llx rdi %016llx rbp %016llx r8 %016llx r9 %016llx r10 %016llx r11 %016llx r12 %016llx r13 %016llx r14 %016llx r15 %016llx cr3 %016llx rflags %08x cs %04x\n",
          cpu, (unsigned long long)c->get_instruction_pointer(),
          (unsigned long long)c->gen_reg[BX_64BIT_REG_RSP].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_RAX].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_RBX].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_RCX].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_RDX].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_RSI].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_RDI].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_RBP].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_R8].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_R9].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_R10].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_R11].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_R12].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_R13].rrx,
          (unsigned long long)c->gen_reg[BX_64BIT_REG_R14].rrx, (unsigned long long)c->gen_reg[BX_64BIT_REG_R15].rrx,
          (unsigned long long)c->cr3, (unsigned)c->read_eflags(), (unsigned)c->sregs[BX_SEG_REG_CS].selector.value);
}

bool snap_read(unsigned cpu, Bit64u laddr, Bit64u *v)
{
  bx_phy_address pa;
  if (!BX_CPU(cpu)->dbg_xlate_linear2phy(laddr, &pa) || pa + 8 > BX_MEM(0)->get_memory_len())
    return false;
  return BX_MEM(0)->dbg_fetch_mem(BX_CPU(cpu), pa, 8, (Bit8u *)v);
}

void snap_stack(unsigned cpu)
{
  BX_CPU_C *c = BX_CPU(cpu);
  Bit64u rsp = c->gen_reg[BX_64BIT_REG_RSP].rrx, rbp = c->gen_reg[BX_64BIT_REG_RBP].rrx, v;
  for (int k = 0; k < 40; k++)
    if (snap_read(cpu, rsp + 8 * k, &v))
      fprintf(snap_out, "ukprof-snapshot: cpu %u stack +%03x %016llx\n", cpu, 8 * k, (unsigned long long)v);
  for (int k = 0; k < 24 && rbp; k++) {
    Bit64u next = 0, ret = 0;
    if (!snap_read(cpu, rbp, &next) || !snap_read(cpu, rbp + 8, &ret))
      break;
    fprintf(snap_out, "ukprof-snapshot: cpu %u frame %d rbp %016llx ret %016llx\n", cpu, k, (unsigned long long)rbp, (unsigned long long)ret);
    rbp = next;
  }
}

void snap_step(unsigned cpu)
{
  if (!snap_on(cpu))
    return;
  Snap &sn = snaps[cpu];
  BX_CPU_C *c = BX_CPU(cpu);
  if (sn.n == 0) {
    snap_regs(cpu);
    if (c->long64_mode()) // the stack words and frames of 64-bit code only
      snap_stack(cpu);
  }
  Site site;
  site.rip = c->get_instruction_pointer();
  site.space = site.rip >= KERNEL_HALF ? 0 : (c->cr3 & CR3_ROOT_MASK);
  sn.sites[site]++;
  if (++sn.n == snap_len)
    snap_print(cpu, sn);
}

} // namespace

void bx_instr_init_env(void)
{
  const char *snap = getenv("UKPROF_SNAPSHOT");
  if (snap && *snap) {
    unsigned long long a = 0, b = 0;
    if (sscanf(snap, "%llu %llu", &a, &b) == 2) {
      const char *where = getenv("UKPROF_SNAPSHOT_OUT");

      snap_at = a;
      snap_len = b;
      snap_out = where && *where ? fopen(where, "a") : stderr;
      if (!snap_out) {
        fprintf(stderr, "ukprof: cannot open %s\n", where);
        snap_len = 0;
      }
    }
  }
  const char *path = getenv("UKPROF_OUT");

  if (path && *path) {
    out = fopen(path, "a");
    if (!out)
      fprintf(stderr, "ukprof: cannot open %s\n", path);
  }
}

void bx_instr_exit_env(void)
{
  // A CPU that has not run its n instructions (halted, or the emulator
  // stopped): what it has.
  for (unsigned c = 0; snap_len && snaps && c < nr_state; c++)
    if (snaps[c].n && !snaps[c].printed)
      snap_print(c, snaps[c]);
  if (snap_out && snap_out != stderr)
    fclose(snap_out);
  snap_out = NULL;
  snap_len = 0;
  if (out)
    fclose(out);
  out = NULL;
}

void bx_instr_initialize(unsigned cpu)
{
  if (!state) {
    nr_state = BX_SMP_PROCESSORS;
    state = new CpuState[nr_state]();
    snaps = new Snap[nr_state]();
  }
  (void)cpu;
}

void bx_instr_hlt(unsigned cpu)
{
  if (state && state[cpu].active)
    state[cpu].hlt++;
}

void bx_instr_exception(unsigned cpu, unsigned vector, unsigned error_code)
{
  if (snap_on(cpu)) {
    char k[160];
    BX_CPU_C *c = BX_CPU(cpu);
    snprintf(k, sizeof(k), "vec %u err %#x rip %llx cr2 %llx", vector, error_code,
             (unsigned long long)c->get_instruction_pointer(), (unsigned long long)c->cr2);
    snaps[cpu].exc[k]++;
  }
  (void)vector;
  (void)error_code;
  if (state && state[cpu].active)
    state[cpu].exc++;
}

void bx_instr_hwinterrupt(unsigned cpu, unsigned vector, Bit16u cs, bx_address eip)
{
  if (snap_on(cpu)) {
    char k[96];
    snprintf(k, sizeof(k), "vec %u cs %x rip %llx", vector, cs, (unsigned long long)eip);
    snaps[cpu].irq[k]++;
  }
  (void)vector;
  (void)cs;
  (void)eip;
  if (state && state[cpu].active)
    state[cpu].hwint++;
}

void bx_instr_before_execution(unsigned cpu, bxInstruction_c *i)
{
  if (snap_len && i->getIaOpcode() != BX_INSERTED_OPCODE)
    snap_step(cpu);
  if (!out)
    return;
  CpuState &s = state[cpu];

  // The end-of-trace entry that handler chaining appends to a trace (at the
  // next instruction's address, length 0) executes nothing and does not
  // advance the clock: not an instruction.
  if (i->getIaOpcode() == BX_INSERTED_OPCODE)
    return;
  if (i->getIaOpcode() == BX_IA_NOP && i->ilen() == 8 && !i->modC0()) {
    Bit32u magic = (Bit32u)i->displ32s();
    if (magic == MARK_START) {
      mark_start(cpu, s);
      return;
    }
    if (magic == MARK_STOP) {
      mark_stop(cpu, s);
      return;
    }
    if (magic == MARK_DONE) {
      mark_done(cpu, s);
      return;
    }
  }
  if (!s.active)
    return;
  Site site;
  site.rip = BX_CPU(cpu)->get_instruction_pointer();
  site.space = site.rip >= KERNEL_HALF ? 0 : (BX_CPU(cpu)->cr3 & CR3_ROOT_MASK);
  Bit64u &n = s.batch[site];
  n++;
  s.insns++;
  if (i->repUsedL()) {
    s.rep_site = &n;
    s.rep_rcx = rep_count(cpu, i);
    s.rep_first = true;
  } else {
    s.rep_site = NULL;
  }
}

// Called after each iteration (or each fast-path run of iterations) of a
// repeated string instruction, before RCX is decremented for it: RCX moved
// from rep_rcx by the iterations done, minus one.
void bx_instr_repeat_iteration(unsigned cpu, bxInstruction_c *i)
{
  if (!out)
    return;
  CpuState &s = state[cpu];

  if (!s.active || !s.rep_site)
    return;
  Bit64u rcx = rep_count(cpu, i);
  Bit64u iters = s.rep_rcx - rcx + 1;

  s.rep_rcx = rcx - 1;
  if (s.rep_first) { // the first iteration was counted before execution
    iters--;
    s.rep_first = false;
  }
  *s.rep_site += iters;
  s.insns += iters;
}
