/*
 * x86-TSO for two CPUs, for the models in this directory.
 *
 * Each CPU has a FIFO store buffer of up to SB entries. A store goes into
 * the buffer; a drainer process moves the oldest entry to memory at any
 * time; a load reads the CPU's own newest buffered store to that variable,
 * or memory. So stores stay in order, loads stay in order, and a load may
 * pass an earlier store to another variable: exactly the reordering TSO
 * allows (SDM Vol. 3A 9.2.3.4), and the one the kernel's fences are for.
 * FENCE(cpu) waits for the buffer to drain: MFENCE, or any LOCKed
 * instruction, or a serializing CR3 write.
 *
 * Memory is mem[]; each model names its variables as indexes into it.
 */
#define SB 2

byte mem[NVARS];
byte sb_var[2 * SB];
byte sb_val[2 * SB];
byte sb_n[2];

#define STORE(cpu, v, x)                                             \
	atomic {                                                     \
		sb_n[cpu] < SB ->                                    \
		sb_var[cpu * SB + sb_n[cpu]] = v;                    \
		sb_val[cpu * SB + sb_n[cpu]] = x;                    \
		sb_n[cpu]++                                          \
	}

/* r = the newest buffered value of v, else memory. */
#define LOAD(cpu, v, r)                                              \
	atomic {                                                     \
		if                                                   \
		:: sb_n[cpu] == 2 && sb_var[cpu * SB + 1] == v ->    \
			r = sb_val[cpu * SB + 1]                     \
		:: sb_n[cpu] >= 1 && sb_var[cpu * SB] == v &&        \
		   !(sb_n[cpu] == 2 && sb_var[cpu * SB + 1] == v) -> \
			r = sb_val[cpu * SB]                         \
		:: else -> r = mem[v]                                \
		fi                                                   \
	}

#define FENCE(cpu) (sb_n[cpu] == 0)

/* A LOCKed read-modify-write: drains the buffer, then acts on memory. */
#define LOCKED_ADD(cpu, v, x, r)                                     \
	atomic {                                                     \
		sb_n[cpu] == 0 -> mem[v] = mem[v] + x; r = mem[v]    \
	}

proctype drain(byte cpu)
{
	do
	:: atomic {
		sb_n[cpu] > 0 ->
		mem[sb_var[cpu * SB]] = sb_val[cpu * SB];
		sb_var[cpu * SB] = sb_var[cpu * SB + 1];
		sb_val[cpu * SB] = sb_val[cpu * SB + 1];
		sb_n[cpu]--
	}
	od
}
