/* arch.h - x86-64 intrinsics: port I/O, control registers, interrupts, TLB. */
#pragma once

#include "ntdef.h"

static inline void __outbyte(USHORT port, UCHAR v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void __outword(USHORT port, USHORT v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void __outdword(USHORT port, ULONG v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline UCHAR __inbyte(USHORT port) { UCHAR v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline USHORT __inword(USHORT port) { USHORT v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static inline ULONG64 __readcr2(void) { ULONG64 v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline ULONG64 __readcr3(void) { ULONG64 v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline void __writecr3(ULONG64 v) { __asm__ volatile("mov %0, %%cr3" ::"r"(v) : "memory"); }
static inline ULONG64 __readcr8(void) { ULONG64 v; __asm__ volatile("mov %%cr8, %0" : "=r"(v)); return v; }
static inline void __writecr8(ULONG64 v) { __asm__ volatile("mov %0, %%cr8" ::"r"(v) : "memory"); }
static inline void __invlpg(const void *va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
static inline void _disable(void) { __asm__ volatile("cli" ::: "memory"); }
static inline void _enable(void) { __asm__ volatile("sti" ::: "memory"); }
static inline void __halt(void) { __asm__ volatile("hlt"); }
static inline ULONG64 __readeflags(void) { ULONG64 v; __asm__ volatile("pushfq; popq %0" : "=r"(v)); return v; }
static inline ULONG64 __rdtsc(void) { ULONG lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((ULONG64)hi << 32) | lo; }
static inline ULONG64 __readmsr(ULONG msr) { ULONG lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((ULONG64)hi << 32) | lo; }
static inline void __writemsr(ULONG msr, ULONG64 v) { __asm__ volatile("wrmsr" ::"c"(msr), "a"((ULONG)v), "d"((ULONG)(v >> 32))); }
static inline ULONG64 __readcr4(void) { ULONG64 v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void __writecr4(ULONG64 v) { __asm__ volatile("mov %0, %%cr4" ::"r"(v) : "memory"); }
static inline void __restoreflags(ULONG64 v) { __asm__ volatile("pushq %0; popfq" ::"r"(v) : "memory", "cc"); }
#define MSR_GS_BASE 0xC0000101
#define MSR_KERNEL_GS_BASE 0xC0000102
#define MSR_APIC_BASE 0x1B
#define EFLAGS_IF 0x200
