/* svctable.c - the system service table (KeServiceDescriptorTable), generated from
 * user/services.def: the routines, their argument counts and names, in the file's order.
 * This file sees no service prototypes: each routine is only named here (its address). */
#include "ksvc.h"
#include "kuser.h"
#include "iosvc.h"   /* last: the services whose entry is not their NT name's routine */

#define SVC(Name, Args) extern NTSTATUS Name(VOID);
#include "../../user/services.def"
#undef SVC

static const PKSYSTEM_SERVICE KiServiceTable[] = {
#define SVC(Name, Args) Name,
#include "../../user/services.def"
#undef SVC
};

static const UCHAR KiArgumentTable[] = {
#define SVC(Name, Args) Args,
#include "../../user/services.def"
#undef SVC
};

static const PCSTR KiServiceNames[] = {
#define SVC(Name, Args) #Name,
#include "../../user/services.def"
#undef SVC
};

_Static_assert(ARRAYSIZE(KiServiceTable) == KSVC_COUNT, "services.def");
#define SVC(Name, Args) _Static_assert((Args) <= KI_MAX_SERVICE_ARGUMENTS, #Name " takes too many arguments");
#include "../../user/services.def"
#undef SVC

const KSERVICE_TABLE_DESCRIPTOR KeServiceDescriptorTable = {KiServiceTable, KiArgumentTable, KSVC_COUNT,
                                                              KiServiceNames};
