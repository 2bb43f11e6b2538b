/* ktestp.h - private to the ktest runner (kernel/ktest): the running test, the
 * record writer's lock, the watchdog. */
#pragma once

#include "ke.h"
#include "ktest.h"

DECLSPEC_NORETURN VOID KtpHang(PCSTR Test, ULONG64 ElapsedMs, ULONG64 BudgetMs, PKTRAP_FRAME TrapFrame);
