# wow64.mk - lab 09's user-mode images (included by the Makefile after user/user.mk):
#   SysWOW64/ntdll.dll   the 32-bit ntdll: stubs generated from user/services.def by
#                        tools/genwow64.py (each enters the 64-bit layer through the far
#                        pointer Wow64Transition) and the run-time library, built -m32 and
#                        linked as PE32 (ld -m i386pe);
#   SysWOW64/<p>.exe     the test programs of WOW64_PROGRAMS built 32-bit from the same
#                        sources as their 64-bit System32 builds (crt0, ktuser, the program);
#   System32/wow64.dll   the wow64 layer: 64-bit code (Microsoft x64 convention) linked as
#                        PE32+ below 4 GiB: user/wow64/ (the start, the dispatch, the mode
#                        switch) and the lab's student files thunk.c and redirect.c - from
#                        solutions/09-wow64 when SOL selects lab 09, else from labs/09-wow64 -
#                        compiled here for user mode (the kernel links its own build of them,
#                        against the thunk checkpoint's doubles).
# 32-bit C is compiled with -fleading-underscore: i386 PE names carry a '_' (ld exports and
# imports them without it).

WOW64_LAB_DIR := $(if $(filter 09-wow64,$(SOL_LABS)),solutions,labs)/09-wow64
WOW64_PROGRAMS := seedcalc wowvm wowbench wowthreads wowseh wowfile wowspan wowgdb
UCFLAGS32 := -m32 -fleading-underscore -std=gnu11 -ffreestanding -fno-stack-protector -fno-pic -fno-pie \
             -mgeneral-regs-only -fno-asynchronous-unwind-tables -fcf-protection=none -fno-ident \
             -fno-tree-loop-distribute-patterns -O2 -g0 -Wall -Wextra -Werror -I$(USER_INC) -MMD -MP
ULDFLAGS32 := -m i386pe --subsystem native --no-insert-timestamp --dynamicbase --file-alignment 0x200 \
              --section-alignment 0x1000
NTDLL32_BASE := 0x77000000
WOW64DLL_BASE := 0x6FF00000
UCFLAGS64W := $(UCFLAGS64) -Ikernel/include -Iuser/wow64 -I$(U)/obj64w
NTDLL32_OBJS := $(U)/obj32/ntdll32_stubs.o $(U)/obj32/ntdll/rtl.o $(U)/obj32/ntdll/except.o $(U)/obj32/wow64/divmod32.o
CRT32_OBJS := $(U)/obj32/crt/crt0.o $(U)/obj32/crt/ktuser.o
WOW64DLL_OBJS := $(U)/obj64w/wow64.o $(U)/obj64w/wow64cpu.o $(U)/obj64w/thunk.o $(U)/obj64w/redirect.o \
                 $(U)/obj64w/wow64_missing.o $(U)/obj64w/wow64except.o $(U)/obj64w/exception.o

# w16f: wowspanl.exe is wowspan built 32-bit and linked large-address aware
# (IMAGE_FILE_LARGE_ADDRESS_AWARE: a 4 GiB limit); wowdata.bin differs between the two sets.
WOW64_IMAGES := $(U)/SysWOW64/ntdll.dll $(patsubst %,$(U)/SysWOW64/%.exe,$(WOW64_PROGRAMS)) $(U)/System32/wow64.dll \
                $(U)/SysWOW64/wowspanl.exe $(U)/System32/wowdata.bin $(U)/SysWOW64/wowdata.bin
USER_IMAGES += $(WOW64_IMAGES)
USER_MODULES := $(patsubst $(U)/%,%,$(USER_IMAGES))
USER_SET_DIRS := $(U)/System32 $(U)/SysWOW64
$(B)/grub.cfg $(B)/grub-core.cfg: | $(WOW64_IMAGES)

$(U)/obj32/ntdll32_stubs.S: user/services.def tools/genwow64.py tools/gensvc.py
	@mkdir -p $(dir $@)
	@$(PY) tools/genwow64.py stubs32 $< > $@.tmp && mv $@.tmp $@

$(U)/obj32/ntdll32_stubs.o: $(U)/obj32/ntdll32_stubs.S user/wow64.mk
	@$(CC) -m32 -c $< -o $@

$(U)/obj32/%.o: user/%.c user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  UCC32 $<"
	@$(CC) $(UCFLAGS32) $(PREFIX_MAP) -c $< -o $@

$(U)/SysWOW64/ntdll.dll: $(NTDLL32_OBJS) user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  ULD32 $@"
	@$(LD) $(ULDFLAGS32) --dll --export-all-symbols --image-base $(NTDLL32_BASE) -e 0 -o $@ $(filter %.o,$^) || { rm -f $@; exit 1; }

$(U)/SysWOW64/%.exe: $(U)/obj32/programs/%.o $(CRT32_OBJS) $(U)/SysWOW64/ntdll.dll user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  ULD32 $@"
	@$(LD) $(ULDFLAGS32) -e _NtProcessStartup -o $@.tmp $(CRT32_OBJS) $< $(U)/SysWOW64/ntdll.dll
	@mv $@.tmp $@

$(U)/obj64w/wow64table.h: user/services.def tools/genwow64.py tools/gensvc.py
	@mkdir -p $(dir $@)
	@$(PY) tools/genwow64.py table $< > $@.tmp && mv $@.tmp $@

$(U)/obj64w/wow64_missing.c: user/services.def tools/genwow64.py tools/gensvc.py
	@mkdir -p $(dir $@)
	@$(PY) tools/genwow64.py missing $< > $@.tmp && mv $@.tmp $@

$(U)/obj64w/wow64_missing.o: $(U)/obj64w/wow64_missing.c
	@$(CC) $(UCFLAGS64) -Wno-builtin-declaration-mismatch -c $< -o $@

$(U)/obj64w/wow64.o: user/wow64/wow64.c $(U)/obj64w/wow64table.h user/wow64.mk
	@echo "  UCC $<"
	@$(CC) $(UCFLAGS64W) $(PREFIX_MAP) -c $< -o $@

$(U)/obj64w/wow64except.o: user/wow64/wow64except.c user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  UCC $<"
	@$(CC) $(UCFLAGS64W) $(PREFIX_MAP) -c $< -o $@

$(U)/SysWOW64/wowspanl.exe: $(U)/obj32/programs/wowspan.o $(CRT32_OBJS) $(U)/SysWOW64/ntdll.dll user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  ULD32 $@ (large-address aware)"
	@$(LD) $(ULDFLAGS32) --large-address-aware -e _NtProcessStartup -o $@.tmp $(CRT32_OBJS) $< $(U)/SysWOW64/ntdll.dll
	@mv $@.tmp $@

$(U)/%/wowdata.bin: tools/genwowdata.py
	@mkdir -p $(dir $@)
	@$(PY) tools/genwowdata.py $* > $@.tmp && mv $@.tmp $@

$(U)/obj64w/wow64cpu.o: user/wow64/wow64cpu.S user/wow64.mk
	@mkdir -p $(dir $@)
	@$(CC) -c $< -o $@

# The student's files, built for user mode (their kernel build is the checkpoint's).
$(U)/obj64w/%.o: $(WOW64_LAB_DIR)/%.c user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  UCC $<"
	@$(CC) $(UCFLAGS64W) $(PREFIX_MAP) -c $< -o $@

$(U)/System32/wow64.dll: $(WOW64DLL_OBJS) $(U)/System32/ntdll.dll user/wow64.mk
	@mkdir -p $(dir $@)
	@echo "  ULD $@"
	@$(LD) $(ULDFLAGS64) --export-all-symbols --image-base $(WOW64DLL_BASE) -e Wow64LdrpInitialize -o $@.tmp $(WOW64DLL_OBJS) $(U)/System32/ntdll.dll
	@mv $@.tmp $@

-include $(wildcard $(U)/obj32/*/*.d $(U)/obj32/*.d $(U)/obj64w/*.d)
.SECONDARY: $(CRT32_OBJS) $(patsubst %,$(U)/obj32/programs/%.o,$(WOW64_PROGRAMS))
