/*
 * CPU feature detection. Features are named by their CPUID location so the
 * table is the documentation (SDM Vol. 2A CPUID, Table 3-8 onwards).
 */
#pragma once

#include "lib/compiler.h"

/* clang-format off */
#define FEATURE_LIST(X)                                                   \
	X(FPU,        0x00000001, 0, EDX, 0,  "fpu")                      \
	X(TSC,        0x00000001, 0, EDX, 4,  "tsc")                      \
	X(MSR,        0x00000001, 0, EDX, 5,  "msr")                      \
	X(PAE,        0x00000001, 0, EDX, 6,  "pae")                      \
	X(APIC,       0x00000001, 0, EDX, 9,  "apic")                     \
	X(MTRR,       0x00000001, 0, EDX, 12, "mtrr")                     \
	X(PGE,        0x00000001, 0, EDX, 13, "pge")                      \
	X(PAT,        0x00000001, 0, EDX, 16, "pat")                      \
	X(FXSR,       0x00000001, 0, EDX, 24, "fxsr")                     \
	X(SSE,        0x00000001, 0, EDX, 25, "sse")                      \
	X(SSE2,       0x00000001, 0, EDX, 26, "sse2")                     \
	X(SSE3,       0x00000001, 0, ECX, 0,  "sse3")                     \
	X(PCID,       0x00000001, 0, ECX, 17, "pcid")                     \
	X(X2APIC,     0x00000001, 0, ECX, 21, "x2apic")                   \
	X(TSC_DEADLINE, 0x00000001, 0, ECX, 24, "tsc_deadline")           \
	X(XSAVE,      0x00000001, 0, ECX, 26, "xsave")                    \
	X(AVX,        0x00000001, 0, ECX, 28, "avx")                      \
	X(RDRAND,     0x00000001, 0, ECX, 30, "rdrand")                   \
	X(HYPERVISOR, 0x00000001, 0, ECX, 31, "hypervisor")               \
	X(FSGSBASE,   0x00000007, 0, EBX, 0,  "fsgsbase")                 \
	X(TSC_ADJUST, 0x00000007, 0, EBX, 1,  "tsc_adjust")               \
	X(AVX2,       0x00000007, 0, EBX, 5,  "avx2")                     \
	X(SMEP,       0x00000007, 0, EBX, 7,  "smep")                     \
	X(ERMS,       0x00000007, 0, EBX, 9,  "erms")                     \
	X(INVPCID,    0x00000007, 0, EBX, 10, "invpcid")                  \
	X(AVX512F,    0x00000007, 0, EBX, 16, "avx512f")                  \
	X(SMAP,       0x00000007, 0, EBX, 20, "smap")                     \
	X(UMIP,       0x00000007, 0, ECX, 2,  "umip")                     \
	X(PKU,        0x00000007, 0, ECX, 3,  "pku")                      \
	X(LA57,       0x00000007, 0, ECX, 16, "la57")                     \
	X(ENQCMD,     0x00000007, 0, ECX, 29, "enqcmd")                   \
	X(FSRM,       0x00000007, 0, EDX, 4,  "fsrm")                     \
	X(SERIALIZE,  0x00000007, 0, EDX, 14, "serialize")                \
	X(AMX_BF16,   0x00000007, 0, EDX, 22, "amx_bf16")                 \
	X(AMX_TILE,   0x00000007, 0, EDX, 24, "amx_tile")                 \
	X(AMX_INT8,   0x00000007, 0, EDX, 25, "amx_int8")                 \
	X(XSAVEOPT,   0x0000000d, 1, EAX, 0,  "xsaveopt")                 \
	X(XSAVEC,     0x0000000d, 1, EAX, 1,  "xsavec")                   \
	X(XSAVES,     0x0000000d, 1, EAX, 3,  "xsaves")                   \
	X(XFD,        0x0000000d, 1, EAX, 4,  "xfd")                      \
	X(SYSCALL,    0x80000001, 0, EDX, 11, "syscall")                  \
	X(NX,         0x80000001, 0, EDX, 20, "nx")                       \
	X(PDPE1GB,    0x80000001, 0, EDX, 26, "pdpe1gb")                  \
	X(RDTSCP,     0x80000001, 0, EDX, 27, "rdtscp")                   \
	X(LM,         0x80000001, 0, EDX, 29, "lm")                       \
	X(INVTSC,     0x80000007, 0, EDX, 8,  "invariant_tsc")
/* clang-format on */

enum cpu_feature {
#define FEATURE_ENUM(id, leaf, sub, reg, bit, name) FEAT_##id,
	FEATURE_LIST(FEATURE_ENUM)
#undef FEATURE_ENUM
		NR_FEATURES
};

struct cpu_info {
	char vendor[13];
	char brand[49];
	uint32_t family, model, stepping;
	uint32_t max_leaf, max_ext_leaf;
	uint32_t phys_addr_bits, virt_addr_bits;
	uint64_t features[(NR_FEATURES + 63) / 64];
};

extern struct cpu_info boot_cpu;

void cpu_detect(void);
void cpu_print(void);
/* Turn a feature off (a boot switch or a known emulator quirk). */
void cpu_clear_feature(enum cpu_feature f);
const char *cpu_feature_name(enum cpu_feature f);

static inline bool cpu_has(enum cpu_feature f)
{
	return boot_cpu.features[f / 64] & (1ull << (f % 64));
}
/* "qemu", "kvm", "bochs" or "hardware": what we run on, for labelling
 * measurements (cpufeature.c). */
const char *platform_name(void);
