/*
 * CPU identification and feature flags (see cpufeature.h). Read once on the
 * boot CPU; the kernel requires all CPUs to be alike (true of the servers
 * and emulators it targets).
 */
#include "arch/x86/cpufeature.h"
#include "arch/x86/cpu.h"
#include "lib/printk.h"
#include "lib/string.h"
#include "arch/x86/acpi.h"
#include "lib/fmt.h"

struct cpu_info boot_cpu;

enum { EAX, EBX, ECX, EDX };

static const struct {
	uint32_t leaf, sub;
	uint8_t reg, bit;
	const char *name;
} feature_table[NR_FEATURES] = {
#define FEATURE_ROW(id, leaf, sub, reg, bit, name) { leaf, sub, reg, bit, name },
	FEATURE_LIST(FEATURE_ROW)
#undef FEATURE_ROW
};

const char *cpu_feature_name(enum cpu_feature f)
{
	return f < NR_FEATURES ? feature_table[f].name : "?";
}

void cpu_clear_feature(enum cpu_feature f)
{
	boot_cpu.features[f / 64] &= ~(1ull << (f % 64));
}

static uint32_t reg_of(struct cpuid_regs r, int reg)
{
	switch (reg) {
	case EAX:
		return r.eax;
	case EBX:
		return r.ebx;
	case ECX:
		return r.ecx;
	default:
		return r.edx;
	}
}

void cpu_detect(void)
{
	struct cpuid_regs r = cpuid(0);

	boot_cpu.max_leaf = r.eax;
	memcpy(boot_cpu.vendor + 0, &r.ebx, 4);
	memcpy(boot_cpu.vendor + 4, &r.edx, 4);
	memcpy(boot_cpu.vendor + 8, &r.ecx, 4);
	boot_cpu.vendor[12] = '\0';
	boot_cpu.max_ext_leaf = cpuid(0x80000000).eax;

	r = cpuid(1);
	boot_cpu.stepping = r.eax & 0xf;
	boot_cpu.family = (r.eax >> 8) & 0xf;
	boot_cpu.model = (r.eax >> 4) & 0xf;
	if (boot_cpu.family == 0xf)
		boot_cpu.family += (r.eax >> 20) & 0xff;
	if (boot_cpu.family == 0x6 || boot_cpu.family >= 0xf)
		boot_cpu.model |= ((r.eax >> 16) & 0xf) << 4;

	if (boot_cpu.max_ext_leaf >= 0x80000004) {
		for (uint32_t i = 0; i < 3; i++) {
			struct cpuid_regs b = cpuid(0x80000002 + i);

			memcpy(boot_cpu.brand + 16 * i, &b, 16);
		}
		boot_cpu.brand[48] = '\0';
	}
	if (boot_cpu.max_ext_leaf >= 0x80000008) {
		r = cpuid(0x80000008);
		boot_cpu.phys_addr_bits = r.eax & 0xff;
		boot_cpu.virt_addr_bits = (r.eax >> 8) & 0xff;
	} else {
		boot_cpu.phys_addr_bits = 36;
		boot_cpu.virt_addr_bits = 48;
	}

	for (int f = 0; f < NR_FEATURES; f++) {
		uint32_t leaf = feature_table[f].leaf;
		uint32_t max = leaf >= 0x80000000 ? boot_cpu.max_ext_leaf : boot_cpu.max_leaf;

		if (leaf > max)
			continue;
		r = cpuid_count(leaf, feature_table[f].sub);
		if (reg_of(r, feature_table[f].reg) & (1u << feature_table[f].bit))
			boot_cpu.features[f / 64] |= 1ull << (f % 64);
	}
}

void cpu_print(void)
{
	const char *brand = boot_cpu.brand;

	while (*brand == ' ')
		brand++;
	pr_info("cpu: %s family %#x model %#x stepping %u: %s", boot_cpu.vendor, boot_cpu.family,
		boot_cpu.model, boot_cpu.stepping, *brand ? brand : "(no brand)");
	pr_info("cpu: %u-bit physical, %u-bit virtual addresses", boot_cpu.phys_addr_bits,
		boot_cpu.virt_addr_bits);

	char line[96];
	size_t used = 0;

	for (int f = 0; f < NR_FEATURES; f++) {
		if (!cpu_has(f))
			continue;
		size_t n = strlen(feature_table[f].name);

		if (used + n + 1 > 70) {
			pr_info("cpu features: %s", line);
			used = 0;
		}
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", used ? " " : "",
					 feature_table[f].name);
	}
	if (used)
		pr_info("cpu features: %s", line);
}

/*
 * What we run on, for labelling measurements: QEMU's TCG and KVM announce
 * themselves in the hypervisor CPUID leaves; Bochs sets no hypervisor bit
 * but its BIOS names itself in the ACPI OEM ID ("BOCHS ", which QEMU's
 * firmware also uses, hence the order of the checks).
 */
const char *platform_name(void)
{
	if (cpu_has(FEAT_HYPERVISOR)) {
		struct cpuid_regs r = cpuid(0x40000000);
		char sig[13];

		memcpy(sig + 0, &r.ebx, 4);
		memcpy(sig + 4, &r.ecx, 4);
		memcpy(sig + 8, &r.edx, 4);
		sig[12] = '\0';
		if (!strcmp(sig, "TCGTCGTCGTCG"))
			return "qemu-tcg";
		if (!strcmp(sig, "KVMKVMKVM"))
			return "kvm";
		return "hypervisor";
	}
	if (acpi_oem_is("BOCHS "))
		return "bochs";
	return "hardware";
}
