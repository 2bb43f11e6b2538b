/* notimpl.c - KeNotImplemented: how a stub that cannot return STATUS_NOT_IMPLEMENTED
 * (it returns BOOLEAN, LONG or nothing) says so. The ktest runner turns it into the
 * failing check "implemented" of the running test. */
#include "ke.h"
#include "ktest.h"

VOID KeNotImplemented(PCSTR Function, PCSTR Lab)
{
    KtNotImplemented(Function, Lab);
}
