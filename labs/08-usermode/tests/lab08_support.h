/* lab08_support.h - what lab 08's tests share: a user process running the framework's
 * ring-3 test code (kernel/ktest/usercode.asm) over a parameter block of steps, and
 * reading back what it did. */
#pragma once

#include "ksvc.h"
#include "ktest.h"
#include "kuser.h"
#include "mm.h"
#include "ps.h"

#define KT_USER_CODE_VA 0x0000000000400000ULL
#define KT_USER_PARAMS_VA 0x0000000000500000ULL
#define KT_USER_MAX_STEPS 40

/* One step of KtUserRun (usercode.asm: the same offsets). */
typedef struct _KT_USER_STEP {
    ULONG64 Rax;
    ULONG64 Rsp;
    ULONG64 Args[16];
    ULONG64 Result;
    ULONG64 Kind;
    ULONG64 Done;
    ULONG64 Preserved;
    ULONG64 Pad[2];
} KT_USER_STEP;
_Static_assert(sizeof(KT_USER_STEP) == 0xC0, "usercode.asm's step");

typedef struct _KT_USER_PARAMS {
    ULONG64 Count;
    ULONG64 ExitStatus;
    ULONG64 SvcTerminate;
    ULONG64 Reserved[5];
    KT_USER_STEP Steps[KT_USER_MAX_STEPS];
} KT_USER_PARAMS;

#define KT_STEP_SYSCALL 0
#define KT_STEP_WRITE 1
#define KT_STEP_READ 2
#define KT_STEP_CALL 3
#define KT_STEP_UD2 4
#define KT_STEP_INT3 5
#define KT_STEP_HLT 6
#define KT_STEP_DIVIDE 7
#define KT_STEP_INT2E 8
#define KT_STEP_READ_PAGES 9

/* Adds a syscall step (Rsp 0: from the program's own stack); returns its index. */
ULONG KtAddCall(KT_USER_PARAMS *P, ULONG64 Rax, ULONG64 Rsp, ULONG ArgCount, const ULONG64 *Args);
ULONG KtAddStep(KT_USER_PARAMS *P, ULONG Kind, ULONG64 Arg0, ULONG64 Arg1);

/* Creates the process (code at KT_USER_CODE_VA, P at KT_USER_PARAMS_VA) without starting
 * it, so that the test may map more; KtUserStart starts its thread. Checks every status. */
PEPROCESS KtUserCreate(PKTEST_CONTEXT Context, PCSTR Name, KT_USER_PARAMS *P);
BOOLEAN KtUserMap(PKTEST_CONTEXT Context, PEPROCESS Process, ULONG_PTR Va, SIZE_T Pages, ULONG Protect,
                  const VOID *Contents, SIZE_T Size);
BOOLEAN KtUserStart(PKTEST_CONTEXT Context, PEPROCESS Process);
/* Waits for the process to end and reads P back; returns its exit status (ObDereference
 * is the caller's, after looking at the process). */
NTSTATUS KtUserFinish(PKTEST_CONTEXT Context, PEPROCESS Process, KT_USER_PARAMS *P);
/* The service-call log since index Since (KiServiceCallLogNext before the process ran). */
const KI_SERVICE_CALL_RECORD *KtLogEntry(ULONG Index);
PCSTR KtStatusName(NTSTATUS Status);
/* The end of every test that made processes (after their last reference is gone): the
 * object manager is taken down (ObpResetObjectManager), so that the pool is as the test found
 * it for the tests after it. */
VOID KtUserCleanup(VOID);
PCSTR KtServiceName(ULONG64 Number);
