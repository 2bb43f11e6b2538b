/* ktuser.h - how a user test program reports to the checkpoint that started it (the user
 * side of kernel/ps/usertest.c). Each call is one NtKtestRecord service; the kernel writes
 * it as a record of the running ktest, which the grader reads like any kernel test's:
 *   KtuValue("sum", "%llu", s)      ->  KTEST VALUE <test> u<k>.sum <s>
 *   KtuCheck(ok, "order", "...")    ->  KTEST VALUE <test> u<k>.order ok ...       (holds)
 *                                       KTEST CHECK <test> user_check FAIL u<k>.order: ...
 *   KtuPrint("...")                 ->  KTEST VALUE <test> u<k>.print ...
 * ("u<k>." marks what the k-th program the ktest ran said; keys are letters, digits, '_',
 * '-', '.'; a line is cut at 200 bytes). The exit status of main is the process's. */
#pragma once
#include "ntuser.h"

NTSTATUS KtuValue(PCSTR Key, PCSTR Format, ...) __attribute__((format(printf, 2, 3)));
BOOLEAN KtuCheck(BOOLEAN Condition, PCSTR Check, PCSTR Format, ...) __attribute__((format(printf, 3, 4)));
NTSTATUS KtuPrint(PCSTR Format, ...) __attribute__((format(printf, 1, 2)));

/* The program's entry, called by the CRT (user/crt/crt0.c) with the command line split at
 * spaces (argv[0] the program's name); its return value is the exit status. */
int main(int argc, char **argv);
