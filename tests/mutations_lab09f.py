"""Lab 09 mutation cases of the checkpoints `files` and `span` (w16f): the student's thunks,
redirection and driver layout broken one clause at a time, each caught from a real 32-bit
process (user/programs/wowfile.c, wowspan.c) with a message naming the clause. Same form as
tests/test_mutations.py: (id, lab, file under solutions/, old text, new text, {checkpoint: words})."""

T = "09-wow64/thunk.c"
R = "09-wow64/redirect.c"
I = "09-wow64/ioctl32.c"

CASES = [
    # The IO_STATUS_BLOCK32 written back in the native layout (16 bytes): the canary after it.
    ("wowf-iosb-written-native", 9, T,
     "    iosb32->Status = Iosb->Status;\n    iosb32->Information = (ULONG)Iosb->Information;",
     "    *(PIO_STATUS_BLOCK)iosb32 = *Iosb;",
     {"files": "canary after the IO_STATUS_BLOCK"}),
    # *FileHandle written as a native HANDLE (8 bytes): the canary after the handle.
    ("wowf-handle-written-native", 9, T,
     "*(HANDLE32 *)Wow64Ptr(Slot) = (HANDLE32)(ULONG_PTR)Handle;",
     "*(HANDLE *)Wow64Ptr(Slot) = Handle;",
     {"files": "canary after the handle"}),
    # Redirection forgotten in NtOpenFile (NtCreateFile keeps it).
    ("wowf-open-not-redirected", 9, T,
     "NtOpenFile(Args[0] ? &handle : NULL, Args[1], Wow64ConvertObjectAttributes(Args[2], &oa, TRUE),",
     "NtOpenFile(Args[0] ? &handle : NULL, Args[1], Wow64ConvertObjectAttributes(Args[2], &oa, FALSE),",
     {"files": "is SysWOW64's x"}),
    # A revert that always turns redirection back on: the nested revert must leave it off.
    ("wowf-revert-always-enables", 9, R,
     "    Wow64CurrentThreadData()->FsRedirectionDisabled = OldValue;",
     "    Wow64CurrentThreadData()->FsRedirectionDisabled = WOW64_FSREDIR_ENABLED;",
     {"files": "nested revert"}),
    # The driver answers a 32-bit caller with the native reply's size.
    ("wowf-driver-native-reply-size", 9, I,
     "ULONG size = is32 ? sizeof(WOWSAMPLE_REPLY32) : sizeof(WOWSAMPLE_REPLY);",
     "ULONG size = sizeof(WOWSAMPLE_REPLY);",
     {"files": "WOWSAMPLE_REPLY32"}),
    # ZeroBits 0 always as the 2 GiB mask: a large-address-aware process never gets past 2 GiB.
    ("wowf-laa-zerobits-2g", 9, T,
     "    if (ZeroBits == 0)\n        return limitMask;",
     "    if (ZeroBits == 0)\n        return 0x7FFFFFFF;",
     {"span": "no reservation reached above 2 GiB"}),
]
