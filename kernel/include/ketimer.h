/* ketimer.h - kernel timers (lab 04): KTIMER, NT's timer table hashed by due time, and
 * the system time that absolute due times are measured in.
 *
 * Times are in 100 ns units. Interrupt time counts from the clock's start
 * (KeQueryInterruptTime, one KeTimeIncrement per clock tick); system time is interrupt
 * time plus KeBootSystemTime (a fixed epoch: no wall clock, so runs stay deterministic).
 * A due time < 0 is relative (-DueTime from now); >= 0 is an absolute system time. */
#pragma once

#include "ke.h"

/* LARGE_INTEGER, TIMER_TYPE and KTIMER itself are in kethread.h: a thread embeds a timer
 * for the timeouts of its waits (lab 05). */

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
