# user.mk - the user-mode images (included by the Makefile): ntdll.dll and the test programs,
# built freestanding with the Microsoft x64 calling convention and linked as PE32+ images by
# binutils (ld -m i386pep). They travel as multiboot2 modules on every boot path (the ISO, the
# grader's GRUB core image, and so the saved state restored from it) and the boot file system
# serves them as \SystemRoot\System32\<name> (kernel/io/bootfs.c).
#
# To add a test program: put user/programs/<name>.c (with main, see user/include/ktuser.h) and
# it is built as <name>.exe and carried on the next build; start it from a ktest with
# KtRunUserProgram (kernel/include/usertest.h).
#
# Lab 09 adds a 32-bit set the same way (UCC32 flags, ld -m i386pe) under SysWOW64/: every rule
# below is written per set (USER_SETS), and the module list takes every file of every set.

U := $(B)/user
USER_INC := user/include
USER_PROGRAMS := $(sort $(basename $(notdir $(wildcard user/programs/*.c))))
UCFLAGS64 := -std=gnu11 -ffreestanding -fno-stack-protector -fpie -fvisibility=hidden -mabi=ms \
             -mno-red-zone -mgeneral-regs-only -fno-asynchronous-unwind-tables -fcf-protection=none \
             -fno-ident -fno-tree-loop-distribute-patterns -O2 -g0 -Wall -Wextra -Werror -I$(USER_INC) -MMD -MP
# PE32+ images: native subsystem, no timestamp (the same sources give the same bytes), base
# relocations kept (--dynamicbase) so the loader can place an image away from its base.
ULDFLAGS64 := -m i386pep --subsystem native --no-insert-timestamp --dynamicbase --file-alignment 0x200 \
              --section-alignment 0x1000
NTDLL64_BASE := 0x7FF00000
NTDLL64_OBJS := $(U)/obj64/ntdll_stubs.o $(U)/obj64/ntdll/rtl.o $(U)/obj64/ntdll/except.o
CRT64_OBJS := $(U)/obj64/crt/crt0.o $(U)/obj64/crt/ktuser.o

# The boot modules: <set>/<file> (System32 now; SysWOW64 with lab 09).
USER_IMAGES := $(U)/System32/ntdll.dll $(patsubst %,$(U)/System32/%.exe,$(USER_PROGRAMS))
USER_MODULES := $(patsubst $(U)/%,%,$(USER_IMAGES))
USER_SET_DIRS := $(U)/System32

$(U)/obj64/ntdll_stubs.S: user/services.def tools/gensvc.py
	@mkdir -p $(dir $@)
	@$(PY) tools/gensvc.py stubs64 $< > $@.tmp && mv $@.tmp $@

$(U)/obj64/ntdll_stubs.o: $(U)/obj64/ntdll_stubs.S user/user.mk
	@$(CC) -c $< -o $@

$(U)/obj64/%.o: user/%.c user/user.mk
	@mkdir -p $(dir $@)
	@echo "  UCC $<"
	@$(CC) $(UCFLAGS64) $(PREFIX_MAP) -c $< -o $@

# Linked straight to its name: a DLL's export directory records the file name it was linked as
# (the name its importers look up).
$(U)/System32/ntdll.dll: $(NTDLL64_OBJS) user/user.mk
	@mkdir -p $(dir $@)
	@echo "  ULD $@"
	@$(LD) $(ULDFLAGS64) --dll --export-all-symbols --image-base $(NTDLL64_BASE) -e 0 -o $@ $(filter %.o,$^) || { rm -f $@; exit 1; }

$(U)/System32/%.exe: $(U)/obj64/programs/%.o $(CRT64_OBJS) $(U)/System32/ntdll.dll user/user.mk
	@mkdir -p $(dir $@)
	@echo "  ULD $@"
	@$(LD) $(ULDFLAGS64) -e NtProcessStartup -o $@.tmp $(CRT64_OBJS) $< $(U)/System32/ntdll.dll
	@mv $@.tmp $@

# GRUB's configuration with one module2 line a user image (the ISO's and the core image's):
# the template's @MODULES@ line becomes "module2 /boot/<set>/<file> <set>/<file>" lines.
# They depend on the list of images ($(B)/modules, rewritten only when the list changes), not on
# the images' contents: relinking an image (the submission pipeline links wow64.dll with each
# student's lab 09 files) does not remake the GRUB core image.
$(B)/modules: FORCE
	@mkdir -p $(B)
	@echo '$(USER_MODULES)' | cmp -s - $@ || echo '$(USER_MODULES)' > $@

$(B)/%.cfg: kernel/arch/x86_64/%.cfg $(B)/modules | $(USER_IMAGES)
	@awk -v mods='$(USER_MODULES)' '/^[ \t]*@MODULES@[ \t]*$$/ { pad = $$0; sub(/@MODULES@.*/, "", pad); \
	    n = split(mods, m, " "); for (i = 1; i <= n; i++) printf "%smodule2 /boot/%s %s\n", pad, m[i], m[i]; next } \
	    { print }' $< > $@.tmp
	@mv $@.tmp $@

-include $(wildcard $(U)/obj64/*/*.d $(U)/obj64/*.d)
