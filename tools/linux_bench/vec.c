/*
 * Vector registers for fpu_pingpong_same_cpu: which set the CPU and the OS
 * enabled (CPUID leaf 1 ECX.OSXSAVE/AVX, leaf 7 EBX.AVX512F, XCR0 read with
 * XGETBV; SDM Vol. 1 13.5), and a way to make all of it dirty: every YMM
 * (or ZMM and opmask) register loaded with non-zero data, uppers included,
 * so that the state is not in its init configuration and XSAVE* must save
 * it. No VZEROUPPER afterwards, on purpose.
 */
#include "harness.h"

#include <cpuid.h>

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return ((uint64_t)hi << 32) | lo;
}

int vec_level(void)
{
	unsigned a, b, c, d;

	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE) || !(c & bit_AVX))
		return 0;
	uint64_t xcr0 = xgetbv0();

	if ((xcr0 & 0x6) != 0x6)
		return 0;
	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_AVX512F) && (xcr0 & 0xe0) == 0xe0)
		return 2;
	return 1;
}

__attribute__((target("avx"))) static void ymm_dirty(const uint64_t *v)
{
	__asm__ volatile("vmovdqu (%0), %%ymm0\n\tvmovdqu (%0), %%ymm1\n\t"
			 "vmovdqu (%0), %%ymm2\n\tvmovdqu (%0), %%ymm3\n\t"
			 "vmovdqu (%0), %%ymm4\n\tvmovdqu (%0), %%ymm5\n\t"
			 "vmovdqu (%0), %%ymm6\n\tvmovdqu (%0), %%ymm7\n\t"
			 "vmovdqu (%0), %%ymm8\n\tvmovdqu (%0), %%ymm9\n\t"
			 "vmovdqu (%0), %%ymm10\n\tvmovdqu (%0), %%ymm11\n\t"
			 "vmovdqu (%0), %%ymm12\n\tvmovdqu (%0), %%ymm13\n\t"
			 "vmovdqu (%0), %%ymm14\n\tvmovdqu (%0), %%ymm15"
			 :
			 : "r"(v)
			 : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

__attribute__((target("avx512f"))) static void zmm_dirty(const uint64_t *v)
{
	__asm__ volatile("vmovdqu64 (%0), %%zmm0\n\tvmovdqu64 (%0), %%zmm1\n\t"
			 "vmovdqu64 (%0), %%zmm2\n\tvmovdqu64 (%0), %%zmm3\n\t"
			 "vmovdqu64 (%0), %%zmm4\n\tvmovdqu64 (%0), %%zmm5\n\t"
			 "vmovdqu64 (%0), %%zmm6\n\tvmovdqu64 (%0), %%zmm7\n\t"
			 "vmovdqu64 (%0), %%zmm8\n\tvmovdqu64 (%0), %%zmm9\n\t"
			 "vmovdqu64 (%0), %%zmm10\n\tvmovdqu64 (%0), %%zmm11\n\t"
			 "vmovdqu64 (%0), %%zmm12\n\tvmovdqu64 (%0), %%zmm13\n\t"
			 "vmovdqu64 (%0), %%zmm14\n\tvmovdqu64 (%0), %%zmm15\n\t"
			 "vmovdqu64 (%0), %%zmm16\n\tvmovdqu64 (%0), %%zmm17\n\t"
			 "vmovdqu64 (%0), %%zmm18\n\tvmovdqu64 (%0), %%zmm19\n\t"
			 "vmovdqu64 (%0), %%zmm20\n\tvmovdqu64 (%0), %%zmm21\n\t"
			 "vmovdqu64 (%0), %%zmm22\n\tvmovdqu64 (%0), %%zmm23\n\t"
			 "vmovdqu64 (%0), %%zmm24\n\tvmovdqu64 (%0), %%zmm25\n\t"
			 "vmovdqu64 (%0), %%zmm26\n\tvmovdqu64 (%0), %%zmm27\n\t"
			 "vmovdqu64 (%0), %%zmm28\n\tvmovdqu64 (%0), %%zmm29\n\t"
			 "vmovdqu64 (%0), %%zmm30\n\tvmovdqu64 (%0), %%zmm31\n\t"
			 "kmovw (%0), %%k1\n\tkmovw (%0), %%k2\n\tkmovw (%0), %%k3\n\t"
			 "kmovw (%0), %%k4\n\tkmovw (%0), %%k5\n\tkmovw (%0), %%k6\n\t"
			 "kmovw (%0), %%k7"
			 :
			 : "r"(v)
			 : "memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7",
			   "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15",
			   "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23",
			   "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31",
			   "k1", "k2", "k3", "k4", "k5", "k6", "k7");
}

void vec_dirty(int level, uint64_t seed)
{
	uint64_t v[8];

	for (int i = 0; i < 8; i++)
		v[i] = (seed + i) * 0x9e3779b97f4a7c15ull | 1;
	if (level == 2)
		zmm_dirty(v);
	else if (level == 1)
		ymm_dirty(v);
}
