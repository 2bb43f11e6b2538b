/* serial.c - COM1 (16550 UART at 0x3F8), the kernel's only console. */
#include "arch.h"
#include "hal.h"

#define COM1 0x3F8
static BOOLEAN HalpAtLineStart = TRUE;

VOID HalInitializeSerial(VOID)
{
    __outbyte(COM1 + 1, 0x00); /* no interrupts */
    __outbyte(COM1 + 3, 0x80); /* DLAB */
    __outbyte(COM1 + 0, 0x01); /* 115200 baud */
    __outbyte(COM1 + 1, 0x00);
    __outbyte(COM1 + 3, 0x03); /* 8N1 */
    __outbyte(COM1 + 2, 0xC7); /* FIFO on */
    __outbyte(COM1 + 4, 0x03);
}

static VOID HalpSerialPut(CHAR c)
{
    while ((__inbyte(COM1 + 5) & 0x20) == 0) {
    }
    __outbyte(COM1, (UCHAR)c);
    HalpAtLineStart = (c == '\n');
}

VOID HalSerialWrite(PCSTR Text, SIZE_T Length)
{
    for (SIZE_T i = 0; i < Length; i++)
        HalpSerialPut(Text[i]);
}

/* Ends a partly written line, so that a record (a STOP line) starts at column 0. */
VOID HalSerialNewLineIfNeeded(VOID)
{
    if (!HalpAtLineStart)
        HalpSerialPut('\n');
}
