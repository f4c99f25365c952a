/*
 * SYS_XSTATE_PERM (user ABI): permission for dynamic extended-state
 * features (AMX tile data), arch/x86/xstate.c.
 */
#pragma once

#define XSTATE_PERM_SUPPORTED 0 /* -> dynamic features the kernel offers (AMX) */
#define XSTATE_PERM_GET	      1 /* -> dynamic features this process may use */
#define XSTATE_PERM_REQUEST   2 /* (features): permit them for this process */
