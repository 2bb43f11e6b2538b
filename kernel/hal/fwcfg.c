/* fwcfg.c - reads named files from QEMU's fw_cfg device (the grader passes the
 * test selection as opt/ntlab/cmdline). */
#include "arch.h"
#include "hal.h"
#include "rtl.h"

#define FW_CFG_PORT_SEL 0x510
#define FW_CFG_PORT_DATA 0x511
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_FILE_DIR 0x0019

static VOID HalpFwCfgRead(PVOID Buffer, ULONG Length)
{
    PUCHAR p = Buffer;
    for (ULONG i = 0; i < Length; i++)
        p[i] = __inbyte(FW_CFG_PORT_DATA);
}

static ULONG HalpBigEndian32(const UCHAR *b) { return ((ULONG)b[0] << 24) | ((ULONG)b[1] << 16) | ((ULONG)b[2] << 8) | b[3]; }

LONG HalReadFirmwareConfigFile(PCSTR Name, PCHAR Buffer, ULONG Size)
{
    UCHAR sig[4];
    __outword(FW_CFG_PORT_SEL, FW_CFG_SIGNATURE);
    HalpFwCfgRead(sig, 4);
    if (memcmp(sig, "QEMU", 4) != 0)
        return -1;

    UCHAR raw[4];
    __outword(FW_CFG_PORT_SEL, FW_CFG_FILE_DIR);
    HalpFwCfgRead(raw, 4);
    ULONG count = HalpBigEndian32(raw);
    for (ULONG i = 0; i < count; i++) {
        struct {
            UCHAR Size[4];
            UCHAR Select[2];
            UCHAR Reserved[2];
            CHAR Name[56];
        } entry;
        HalpFwCfgRead(&entry, sizeof(entry));
        entry.Name[55] = 0;
        if (strcmp(entry.Name, Name) != 0)
            continue;
        ULONG length = HalpBigEndian32(entry.Size);
        USHORT select = (USHORT)((entry.Select[0] << 8) | entry.Select[1]);
        if (Size == 0)
            return -1;
        ULONG take = length < Size - 1 ? length : Size - 1;
        __outword(FW_CFG_PORT_SEL, select);
        HalpFwCfgRead(Buffer, take);
        Buffer[take] = 0;
        return (LONG)take;
    }
    return -1;
}
