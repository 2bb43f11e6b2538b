/* ketimer.h - kernel timers (lab 04): KTIMER, NT's timer table hashed by due time, and
 * the system time that absolute due times are measured in.
 *
 * Times are in 100 ns units. Interrupt time counts from the clock's start
 * (KeQueryInterruptTime, one KeTimeIncrement per clock tick); system time is interrupt
 * time plus KeBootSystemTime (a fixed epoch: no wall clock, so runs stay deterministic).
 * A due time < 0 is relative (-DueTime from now); >= 0 is an absolute system time. */
#pragma once

#include "ke.h"

#ifndef NTLAB_LARGE_INTEGER
#define NTLAB_LARGE_INTEGER
typedef union _LARGE_INTEGER {
    struct {
        ULONG LowPart;
        LONG HighPart;
    };
    LONG64 QuadPart;
} LARGE_INTEGER, *PLARGE_INTEGER;
#endif

typedef enum _TIMER_TYPE {
    NotificationTimer = 0,
    SynchronizationTimer = 1,
} TIMER_TYPE;

/* A timer. While set it is on the timer table's list TimerListEntry, in the entry
 * KiTimerIndex(DueTime); Inserted says so. DueTime is an absolute interrupt time. */
typedef struct _KTIMER {
    DISPATCHER_HEADER Header;      /* Type: TimerNotificationObject / TimerSynchronizationObject;
                                    * SignalState: 1 once expired, 0 when (re)set */
    ULONG64 DueTime;               /* interrupt time (100 ns) at which it expires */
    LIST_ENTRY TimerListEntry;     /* in KiTimerTableListHead[Hand].Entry while Inserted */
    struct _KDPC *Dpc;             /* queued (SystemArgument1 = low, 2 = high of the expiry time) */
    LONG Period;                   /* milliseconds; 0 = one-shot */
    BOOLEAN Inserted;              /* on the timer table */
    UCHAR Hand;                    /* the table entry it is on (KiTimerIndex(DueTime)) */
} KTIMER, *PKTIMER;

/* NT's timer table: TIMER_TABLE_SIZE lists, a timer on the list of its due tick
 * (the first clock tick at or after DueTime) modulo the size, each list in ascending
 * DueTime order (equal due times in the order they were set). */
#define TIMER_TABLE_SIZE 64 /* NT: 256; smaller here so that tests cross its wrap-around in a quarter second */
typedef struct _KTIMER_TABLE_ENTRY {
    LIST_ENTRY Entry;
} KTIMER_TABLE_ENTRY, *PKTIMER_TABLE_ENTRY;
extern KTIMER_TABLE_ENTRY KiTimerTableListHead[TIMER_TABLE_SIZE];

/* The due tick of an interrupt time: the first tick n with n * KeTimeIncrement >= Time. */
static inline ULONG64 KiDueTick(ULONG64 Time)
{
    ULONG64 inc = KeTimeIncrement ? KeTimeIncrement : 10000;
    return (Time + inc - 1) / inc;
}
/* The table entry of a due time. */
static inline ULONG KiTimerIndex(ULONG64 DueTime)
{
    return (ULONG)(KiDueTick(DueTime) % TIMER_TABLE_SIZE);
}

extern const ULONG64 KeBootSystemTime;
VOID KeQuerySystemTime(PLARGE_INTEGER CurrentTime);

/* ---- Lab 04: timers (student code) ---- */
VOID KeInitializeTimer(PKTIMER Timer);
VOID KeInitializeTimerEx(PKTIMER Timer, TIMER_TYPE Type);
BOOLEAN KeSetTimer(PKTIMER Timer, LARGE_INTEGER DueTime, struct _KDPC *Dpc);
BOOLEAN KeSetTimerEx(PKTIMER Timer, LARGE_INTEGER DueTime, LONG Period, struct _KDPC *Dpc);
BOOLEAN KeCancelTimer(PKTIMER Timer);
BOOLEAN KeReadStateTimer(PKTIMER Timer);
