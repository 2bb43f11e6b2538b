/* iosvc.h - the services whose table entry is not the routine of their NT name (w16f):
 * user/services.def names NtCreateFile... (ntdll's stubs carry those names), but the kernel's
 * routines of those names trust their caller (lab 07's NtCreateFile/NtReadFile/NtWriteFile/
 * NtDeviceIoControlFile: kernel-mode callers; the object manager's NtDuplicateObject writes
 * *TargetHandle directly). The service table takes the user-mode entries of kernel/io/iosvc.c
 * instead. Only kernel/ke/svctable.c includes this, after every other header: the macros
 * rename the routine (SVC's Name), never the name string (#Name). */
#pragma once

#define NtCreateFile IopCreateFileService
#define NtOpenFile IopOpenFileService
#define NtReadFile IopReadFileService
#define NtWriteFile IopWriteFileService
#define NtDeviceIoControlFile IopDeviceIoControlFileService
#define NtDuplicateObject IopDuplicateObjectService
