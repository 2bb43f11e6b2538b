"""io.py - I/O manager commands (lab 07): nt irp, nt devstack, nt drvobj.

They read the kernel's own structures (kernel/include/io.h) through the debug information:
an IRP and its stack locations (location 1 is the bottom; CurrentLocation StackCount + 1
means no driver holds it), a device's stack from AttachedDevice / AttachedTo, a driver's
devices and major function table. Every walk is bounded and every Type field checked, so a
corrupt structure gives a `corrupt:` line, not a traceback.
"""
from __future__ import annotations

import gdb

from ntgdb import command, core
from ntgdb.core import NtError, out

IO_TYPE_DEVICE, IO_TYPE_DRIVER, IO_TYPE_IRP = 3, 4, 6
MAX_WALK = 64
MAJOR = {0x00: "IRP_MJ_CREATE", 0x02: "IRP_MJ_CLOSE", 0x03: "IRP_MJ_READ", 0x04: "IRP_MJ_WRITE",
         0x09: "IRP_MJ_FLUSH_BUFFERS", 0x0e: "IRP_MJ_DEVICE_CONTROL", 0x0f: "IRP_MJ_INTERNAL_DEVICE_CONTROL",
         0x12: "IRP_MJ_CLEANUP"}
CONTROL = [(0x01, "PENDING_RETURNED"), (0x20, "INVOKE_ON_CANCEL"), (0x40, "INVOKE_ON_SUCCESS"),
           (0x80, "INVOKE_ON_ERROR")]
IRP_FLAGS = [(0x10, "BUFFERED_IO"), (0x20, "DEALLOCATE_BUFFER"), (0x40, "INPUT_OPERATION"), (0x04, "SYNCHRONOUS_API")]
STATUS = {0: "STATUS_SUCCESS", 0x103: "STATUS_PENDING", 0xC0000010: "STATUS_INVALID_DEVICE_REQUEST",
          0xC0000011: "STATUS_END_OF_FILE", 0xC0000016: "STATUS_MORE_PROCESSING_REQUIRED",
          0xC0000120: "STATUS_CANCELLED", 0xC000000D: "STATUS_INVALID_PARAMETER"}


def _value(expr: str, what: str) -> gdb.Value:
    try:
        v = gdb.parse_and_eval(expr)
        v.fetch_lazy()
        return v
    except gdb.error as e:
        raise NtError(f"cannot read {what} ({e})") from None


def _int(v: gdb.Value) -> int:
    return int(v) & ((1 << 64) - 1)


def _bits(value: int, names) -> str:
    text = "|".join(n for b, n in names if value & b)
    rest = value & ~sum(b for b, _ in names)
    if rest:
        text += ("|" if text else "") + f"{rest:#x}"
    return text or "0"


def _routine(v: int) -> str:
    return core.symbolize(v) if v else "NULL"


def _status(v: int) -> str:
    v &= 0xFFFFFFFF
    return f"{v:#010x}" + (f" ({STATUS[v]})" if v in STATUS else "")


def _device_line(addr: int) -> str:
    d = _value(f"*(struct _DEVICE_OBJECT *){addr:#x}", f"the device at {addr:#x}")
    if int(d["Type"]) != IO_TYPE_DEVICE:
        return f"{addr:016x}  corrupt: Type {int(d['Type'])}, not IO_TYPE_DEVICE (3)"
    drv = _int(d["DriverObject"])
    name = d["DeviceName"].string(length=32).split("\0")[0] if drv else ""
    dname = ""
    try:
        dname = _value(f"((struct _DRIVER_OBJECT *){drv:#x})->DriverName", "its driver").string(length=32).split("\0")[0]
    except (NtError, gdb.error, UnicodeDecodeError):
        dname = "?"
    return (f"{addr:016x}  StackSize {int(d['StackSize'])}  driver {drv:016x} ({dname})  Flags {int(d['Flags']):#x}"
            + (f"  '{name}'" if name else ""))


@command("irp", "ADDR", "an IRP and every stack location: the current one, routines, Control bits (!irp)", "07")
def irp(arg: str) -> None:
    addr = core.parse_number(arg, "IRP address")
    i = _value(f"*(struct _IRP *){addr:#x}", f"the IRP at {addr:#x}")
    if int(i["Type"]) != IO_TYPE_IRP:
        raise NtError(f"{addr:#x} is not an IRP (Type {int(i['Type'])}, IO_TYPE_IRP is 6; freed?)")
    count, current = int(i["StackCount"]), int(i["CurrentLocation"])
    out(f"IRP {addr:016x}  Size {int(i['Size'])}  StackCount {count}  CurrentLocation {current}"
        + ("  (no driver holds it)" if current == count + 1 else ""))
    out(f"  Flags {_bits(int(i['Flags']), IRP_FLAGS)}  PendingReturned {int(i['PendingReturned'])}  "
        f"Cancel {int(i['Cancel'])}  CancelRoutine {_routine(_int(i['CancelRoutine']))}")
    out(f"  IoStatus {_status(_int(i['IoStatus']['Status']))} / {_int(i['IoStatus']['Information'])}  "
        f"UserIosb {_int(i['UserIosb']):#x}  UserEvent {_int(i['UserEvent']):#x}")
    out(f"  MdlAddress {_int(i['MdlAddress']):#x}  SystemBuffer {_int(i['AssociatedIrp']['SystemBuffer']):#x}  "
        f"UserBuffer {_int(i['UserBuffer']):#x}")
    size = _value("sizeof(struct _IO_STACK_LOCATION)", "IO_STACK_LOCATION").__int__()
    first = addr + _value("sizeof(struct _IRP)", "IRP").__int__()
    want = first + (current - 1) * size
    cur = _int(i["Tail"]["Overlay"]["CurrentStackLocation"])
    if cur != want:
        out(f"  corrupt: CurrentStackLocation {cur:#x} is not location {current} ({want:#x})")
    if not 0 < count <= 127:
        raise NtError(f"corrupt: StackCount {count}")
    for k in range(count, 0, -1):
        la = first + (k - 1) * size
        s = _value(f"*(struct _IO_STACK_LOCATION *){la:#x}", f"location {k}")
        major = int(s["MajorFunction"])
        mark = ">" if k == current else " "
        routine = _int(s["CompletionRoutine"])
        out(f" {mark}[{k}] {la:016x}  {MAJOR.get(major, hex(major))}  device {_int(s['DeviceObject']):#x}  "
            f"Control {_bits(int(s['Control']), CONTROL)}"
            + (f"  completion {core.symbolize(routine)} ({_int(s['Context']):#x})" if routine else ""))
        p = s["Parameters"]
        if major in (3, 4):
            out(f"        Length {int(p['Read']['Length'])}  ByteOffset {int(p['Read']['ByteOffset'])}")
        elif major in (0x0e, 0x0f):
            c = p["DeviceIoControl"]
            out(f"        IoControlCode {int(c['IoControlCode']):#x} (method {int(c['IoControlCode']) & 3})  "
                f"in {int(c['InputBufferLength'])}  out {int(c['OutputBufferLength'])}")


@command("devstack", "ADDR", "the device stack a device is in, top to bottom, with StackSize and driver (!devstack)",
         "07")
def devstack(arg: str) -> None:
    addr = core.parse_number(arg, "device address")
    top, seen = addr, {addr}
    for _ in range(MAX_WALK):
        up = _int(_value(f"((struct _DEVICE_OBJECT *){top:#x})->AttachedDevice", "AttachedDevice"))
        if not up:
            break
        if up in seen:
            raise NtError(f"corrupt: AttachedDevice loops at {up:#x}")
        seen.add(up)
        top = up
    d, k = top, 0
    for _ in range(MAX_WALK):
        mark = ">" if d == addr else " "
        out(f" {mark}{_device_line(d)}")
        nxt = _int(_value(f"((struct _DEVICE_OBJECT *){d:#x})->AttachedTo", "AttachedTo"))
        if nxt:
            back = _int(_value(f"((struct _DEVICE_OBJECT *){nxt:#x})->AttachedDevice", "AttachedDevice"))
            if back != d:
                out(f"   corrupt: {nxt:#x}.AttachedDevice is {back:#x}, not {d:#x}")
        if not nxt:
            break
        d, k = nxt, k + 1


@command("drvobj", "ADDR", "a driver object: its devices and its major function table (!drvobj)", "07")
def drvobj(arg: str) -> None:
    addr = core.parse_number(arg, "driver address")
    d = _value(f"*(struct _DRIVER_OBJECT *){addr:#x}", f"the driver at {addr:#x}")
    if int(d["Type"]) != IO_TYPE_DRIVER:
        raise NtError(f"{addr:#x} is not a driver object (Type {int(d['Type'])}, IO_TYPE_DRIVER is 4)")
    out(f"Driver {addr:016x} '{d['DriverName'].string(length=32).split(chr(0))[0]}'  "
        f"DriverEntry {_routine(_int(d['DriverInit']))}  Unload {_routine(_int(d['DriverUnload']))}")
    dev, n = _int(d["DeviceObject"]), 0
    while dev and n < MAX_WALK:
        out(f"  device {_device_line(dev)}")
        dev = _int(_value(f"((struct _DEVICE_OBJECT *){dev:#x})->NextDevice", "NextDevice"))
        n += 1
    invalid = core.symbol_address("IopInvalidDeviceRequest", required=False)
    rest = 0
    for m in range(int(_value("sizeof(((struct _DRIVER_OBJECT *)0)->MajorFunction) / sizeof(void *)", "MajorFunction"))):
        f = _int(d["MajorFunction"][m])
        if f != invalid:
            out(f"  [{m:#04x}] {MAJOR.get(m, '')}  {_routine(f)}")
        else:
            rest += 1
    if rest:
        out(f"  ({rest} other major functions: IopInvalidDeviceRequest, STATUS_INVALID_DEVICE_REQUEST)")
