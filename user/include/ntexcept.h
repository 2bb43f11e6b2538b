/* ntexcept.h - user programs' view of exceptions (lab 09, w16x): the layouts and services of
 * kernel/include/ntexcept.h (one definition for the kernel, both ntdlls and the programs),
 * and ntdll's dispatch side (user/ntdll/except.c). */
#pragma once
#include "ntuser.h"
#include "../../kernel/include/ntexcept.h"

#ifndef __x86_64__
/* ntdll32: raises Record as a first-chance exception at the caller's return address with the
 * caller's registers (its ExceptionAddress is set to that address). If a handler continues,
 * it returns STATUS_SUCCESS (or the EAX the handler put in the context); if the service
 * refuses (NumberParameters above 15, a bad pointer), that status. */
NTSTATUS RtlRaiseException(PEXCEPTION_RECORD ExceptionRecord);
#endif
