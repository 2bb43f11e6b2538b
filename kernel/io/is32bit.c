/* is32bit.c - IoIs32bitProcess (lab 09's framework): may a driver expect the 32-bit layout
 * of its structures in this request? Yes when it comes from user mode in a WOW64 process. */
#include "io.h"
#include "ps.h"
#include "wow64t.h"

BOOLEAN IoIs32bitProcess(PIRP Irp)
{
    if (Irp != NULL && Irp->RequestorMode != UserMode)
        return FALSE;
    return PsGetProcessWow64Process(PsGetCurrentProcess()) != NULL;
}
