/* pic.c - the legacy 8259 PICs: remapped to vectors 0x20-0x2F and masked for good
 * (the local APIC, apic.c, delivers every interrupt). */
#include "arch.h"
#include "hal.h"

VOID HalInitializePic(VOID)
{
    __outbyte(0x20, 0x11);
    __outbyte(0xA0, 0x11);
    __outbyte(0x21, 0x20);
    __outbyte(0xA1, 0x28);
    __outbyte(0x21, 0x04);
    __outbyte(0xA1, 0x02);
    __outbyte(0x21, 0x01);
    __outbyte(0xA1, 0x01);
    __outbyte(0x21, 0xFF);
    __outbyte(0xA1, 0xFF);
}
