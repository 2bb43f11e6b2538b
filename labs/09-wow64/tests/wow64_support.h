/* wow64_support.h - what lab 09's tests share: the arena below 2 GiB where the 32-bit
 * structures live (seeded address, poisoned), the seeded cases of the thunk checkpoint
 * (grader/models/lab09.py builds the same cases from the seed), and the doubles' plan. */
#pragma once

#include "ktest.h"
#include "wow64t.h"

#define KTW_ARENA_PAGES 4
#define KTW_ARENA_BYTES (KTW_ARENA_PAGES * 4096)
#define KTW_POISON_BYTES 0x1000     /* the part of the arena the cases use */
#define KTW_OFF_ARGS 0x20

enum {
    KTW_SVC_ALLOCATE, KTW_SVC_FREE, KTW_SVC_PROTECT, KTW_SVC_QUERYVM, KTW_SVC_CREATEFILE, KTW_SVC_OPENFILE,
    KTW_SVC_READ, KTW_SVC_WRITE, KTW_SVC_CLOSE, KTW_SVC_IOCTL, KTW_SVC_WAIT, KTW_SVC_CREATEEVENT,
    KTW_SVC_DUPLICATE, KTW_SVC_QUERYPROCESS, KTW_SVC_COUNT
};
extern PCSTR const KtwServiceNames[KTW_SVC_COUNT];   /* "NtClose" */
extern PCSTR const KtwThunkNames[KTW_SVC_COUNT];     /* "whNtClose" */

typedef struct _KTW_STRUCT {
    ULONG Offset;             /* in the arena */
    ULONG Size;
    PCSTR Name;
} KTW_STRUCT;

typedef struct _KTW_CASE {
    ULONG Service;
    ULONG Variant;
    ULONG StructCount;
    KTW_STRUCT Struct[6];
} KTW_CASE;

/* What the next native call answers: its status and its outputs. */
typedef struct _KTW_PLAN {
    NTSTATUS Status;
    ULONG64 Out[8];
} KTW_PLAN;

extern KTW_PLAN KtwPlan;
extern WOW64_THREAD_DATA KtwThreadData[2];
extern ULONG KtwCurrentThread;
extern ULONG KtwLimit;
extern ULONG_PTR KtwArenaBase;

#define KTW_CASE_COUNT 37

/* Maps the arena (seeded address below 2 GiB) and draws the poison; FALSE: stop (reported). */
BOOLEAN KtwEnter(PKTEST_CONTEXT Context);
VOID KtwLeave(PKTEST_CONTEXT Context);
/* Case n of the thunk checkpoint: poisons the arena, lays out its slots and structures,
 * sets the plan, the thread's redirection state and the process's limit. */
VOID KtwBuildCase(PKTEST_CONTEXT Context, ULONG n, KTW_CASE *Case);
/* The thunk checkpoint's cases, Rounds times over (case n uses the table's case n mod 37). */
VOID KtwRunThunkCases(PKTEST_CONTEXT Context, ULONG Rounds);
BOOLEAN KtwInArena(ULONG_PTR Address, SIZE_T Size);
BOOLEAN KtwPoisonIntact(ULONG Offset, ULONG Size);
UCHAR KtwPoisonByte(ULONG Offset);
