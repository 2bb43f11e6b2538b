/* ksvc.h - the index of each system service, KSVC_<Name>, and their count KSVC_COUNT,
 * generated from user/services.def (the line order). For the framework and tests: a student
 * file never needs a service's number (the submission pipeline's compile view has no user/). */
#pragma once

enum {
#define SVC(Name, Args) KSVC_##Name,
#include "../../user/services.def"
#undef SVC
    KSVC_COUNT
};
