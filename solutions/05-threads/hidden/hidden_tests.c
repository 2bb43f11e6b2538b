/* hidden_tests.c - lab 05 hidden tests (instructor tree only). */
#include "lab05_audit.h"

/* Four objects and no wait block array: the thread has three blocks of its own. */
KTEST_STOP("wait.too_many_objects", KtTestWaitTooManyObjects)
{
    static KEVENT e[4];
    PVOID objects[4];
    if (!KtLab05Begin(Context))
        return;
    for (ULONG i = 0; i < 4; i++) {
        KeInitializeEvent(&e[i], NotificationEvent, TRUE);
        objects[i] = &e[i];
    }
    KeWaitForMultipleObjects(4, objects, WaitAny, Executive, KernelMode, FALSE, NULL, NULL);
    KtFail(Context, "no_bugcheck", "KeWaitForMultipleObjects(4 objects, no wait block array) returned instead of "
           "bugchecking MAXIMUM_WAIT_OBJECTS_EXCEEDED");
}
