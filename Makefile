# Makefile - every entry point of ntlab. `make help` lists them.
#
#   SOL=   which labs come from solutions/: none (default), all, 1, 0-3, 0,2
#   LAB=   grade one lab            KTEST=  tests to boot with `make qemu`
#   SEED=  seed of the run          JOBS=   parallel QEMU boots when grading
#   DEBUG=1  build at -Og (locals visible in GDB)   GDBPORT=  the port `make gdb` attaches to

SHELL := /bin/bash
.DEFAULT_GOAL := all
# Every rule is written out here: without make's built-in rules it does not try RCS, SCCS and
# implicit chains for each of the hundreds of headers the .d files list (a build's make read
# and check take 0.042 instead of 0.098 CPU-s).
MAKEFLAGS += --no-builtin-rules
NO_TOOL_GOALS := help clean deps handin handouts

# Tools first: missing packages are installed (as root) or the apt-get command is
# printed, once per make (nested makes inherit NTLAB_DEPS_OK).
ifneq ($(filter-out $(NO_TOOL_GOALS),$(or $(MAKECMDGOALS),all)),)
ifneq ($(NTLAB_DEPS_OK),1)
DEPS_STATUS := $(shell tools/install-deps.sh >&2; echo $$?)
ifneq ($(DEPS_STATUS),0)
$(error ntlab: missing tools, see above)
endif
export NTLAB_DEPS_OK := 1
endif
endif

# A Python that has Debian's pytest (python3 on PATH may be another interpreter).
PY := $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || command -v python3)
SOL ?= none
LAB ?=
SEED ?=
KTEST ?=
CHECKPOINT ?=
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

# One Python run for the selection: its name, then every lab folder, "+" before those taken
# from solutions/ ("all +00-bugcheck +01-pfn ..."); a bad SOL= is an error.
ifneq ($(filter-out $(NO_TOOL_GOALS),$(or $(MAKECMDGOALS),all)),)
ifeq ($(PY),)
$(error ntlab needs python3: sudo apt-get install python3 python3-pytest python3-pytest-xdist)
endif
SELECTION := $(shell $(PY) -m grader.selection make '$(SOL)' 2>&1)
ifneq ($(.SHELLSTATUS),0)
$(error $(SELECTION))
endif
endif

SELNAME := $(firstword $(SELECTION))
B := build/$(SELNAME)
ALL_LABS := $(patsubst +%,%,$(wordlist 2,$(words $(SELECTION)),$(SELECTION)))
SOL_LABS := $(patsubst +%,%,$(filter +%,$(SELECTION)))
# Each lab's student files come from solutions/ when selected, from labs/ otherwise.
LAB_SRCS := $(foreach l,$(ALL_LABS),$(wildcard $(if $(filter $(l),$(SOL_LABS)),solutions,labs)/$(l)/*.c))
TEST_SRCS := $(wildcard labs/*/tests/*.c) $(wildcard solutions/*/hidden/*.c)
KERNEL_SRCS := $(shell find kernel -name '*.c' | sort)
ASM_SRCS := $(shell find kernel -name '*.asm' | sort)
# Tests link before student objects (a name defined twice resolves to the test's).
OBJS := $(patsubst %.c,$(B)/obj/%.o,$(KERNEL_SRCS) $(TEST_SRCS) $(LAB_SRCS)) \
        $(patsubst %.asm,$(B)/obj/%.o,$(ASM_SRCS))
# Lab 09's thunks are the wow64 layer: user-mode code in a 32-bit process (user/wow64/). In the
# kernel their native calls go to the thunk checkpoint's doubles instead of the real services:
# the object, compiled like every student file, is linked under the names of natives.syms.
WOW64_SYMS := labs/09-wow64/tests/natives.syms
OBJS := $(patsubst %/09-wow64/thunk.o,%/09-wow64/thunk.kt.o,$(OBJS))
.SECONDARY: $(patsubst %.kt.o,%.o,$(filter %/09-wow64/thunk.kt.o,$(OBJS)))
$(B)/obj/%/09-wow64/thunk.kt.o: $(B)/obj/%/09-wow64/thunk.o $(WOW64_SYMS)
	@objcopy --redefine-syms=$(WOW64_SYMS) $< $@

CC := gcc
LD := ld
# DEBUG=1: -Og, so GDB shows locals and steps line by line (objects rebuild when flags change).
OPT := $(if $(filter-out 0,$(DEBUG)),-Og,-O2)
# No DWARF from NASM: its line table of a file with two code sections (boot.asm) makes GDB
# print "pc ... in address map, but not in symtab" at every stop; the grader names assembly
# frames from the symbol table and the .asm source instead.
NASMFLAGS := -f elf64
CFLAGS := -std=gnu11 -ffreestanding -fno-stack-protector -fno-pic -fno-pie -mno-red-zone \
          -mcmodel=kernel -mgeneral-regs-only -fno-omit-frame-pointer -fno-optimize-sibling-calls \
          -fno-asynchronous-unwind-tables -fcf-protection=none -fstack-clash-protection $(OPT) -g -Wall -Wextra -Werror \
          -Ikernel/include $(patsubst %,-I%,$(sort $(wildcard labs/*/tests))) -MMD -MP
# No host path in objects or messages (kept out of $(B)/flags: the same objects in any folder).
PREFIX_MAP := -ffile-prefix-map=$(CURDIR)/=
LDFLAGS := -nostdlib -z max-page-size=0x1000 -z noexecstack -T kernel/arch/x86_64/linker.ld
GRUB_MODULES := multiboot2 normal
# The grader's boot image: GRUB's lnxboot.img + a grub-mkimage core loaded by QEMU's -kernel
# (no El Torito, no CD reads, no normal mode), which reads the kernel from ntlab.disk, a tar
# archive given as a read-only virtio disk: the core holds no kernel, so it is made once per
# build folder and GRUB decompresses only itself (a kernel in the core's memdisk made every
# GRUB run decompress it, about a third of GRUB's time).
GRUB_DIR := /usr/lib/grub/i386-pc
CORE_MODULES := biosdisk tar multiboot2 boot

# The user-mode images (ntdll.dll, the test programs) and the GRUB configurations that load
# them as multiboot2 modules.
# -include: the submission pipeline's compile view (grader/submit.py) has the Makefile for
# `make print-cflags` but not user/ (its rules are only needed to build the images).
-include user/user.mk
-include user/wow64.mk

# The compile flags (the submission pipeline compiles student files with them in its own sandbox).
print-cflags:
	$(info $(CFLAGS) $(PREFIX_MAP))@:

.PHONY: print-cflags all iso images qemu qemu-gdb gdb grade test bench help deps clean dist handin autograder handouts debug-dump
all: iso
# Builds of one selection never overlap: the grader and every make take build/<sel>.lock.
# `iso` is the CD image (make qemu); `images` is what the grader boots (ntlab.elf, ntlab.lnx,
# ntlab.disk).
# Both have ntlab.disk: every path boots one machine (grader/qemu.py boot_args).
iso images: IMAGE_FILES = $(if $(filter iso,$@),$(B)/ntlab.iso $(B)/ntlab.disk,$(B)/ntlab.elf $(B)/ntlab.lnx $(B)/ntlab.disk)
# NTLAB_OLD_OBJS: objects the submission pipeline compiled and checked in their own sandbox;
# never remade here (make's -o is not passed on to a sub-make, so it is given there).
# Under the lock with no NTLAB_OLD_OBJS (grader/build.py): the files are plain prerequisites,
# no second make reads this Makefile again (about 0.15 CPU-s a build).
ifeq ($(NTLAB_BUILD_LOCKED)$(NTLAB_OLD_OBJS),1)
iso: $(B)/ntlab.iso $(B)/ntlab.disk
images: $(B)/ntlab.elf $(B)/ntlab.lnx $(B)/ntlab.disk
else
iso images:
ifeq ($(NTLAB_BUILD_LOCKED),1)
	@$(MAKE) --no-print-directory $(addprefix -o ,$(NTLAB_OLD_OBJS)) $(IMAGE_FILES)
else
	@mkdir -p build && flock build/$(SELNAME).lock $(MAKE) --no-print-directory NTLAB_BUILD_LOCKED=1 \
	    $(addprefix -o ,$(NTLAB_OLD_OBJS)) $(IMAGE_FILES)
endif
endif

# Objects depend on the flags they were built with: a changed flag rebuilds them.
$(B)/flags: FORCE
	@mkdir -p $(B)
	@echo '$(CFLAGS) $(LDFLAGS) $(NASMFLAGS)' | cmp -s - $@ || echo '$(CFLAGS) $(LDFLAGS) $(NASMFLAGS)' > $@
FORCE:
.PHONY: FORCE

$(B)/obj/%.o: %.c $(B)/flags
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) $(PREFIX_MAP) -c $< -o $@

$(B)/obj/%.o: %.asm $(B)/flags $(wildcard kernel/arch/x86_64/*.inc)
	@mkdir -p $(dir $@)
	@echo "  AS  $<"
	@nasm $(NASMFLAGS) -o $@ $<

# The selection's name (the kernel's NTLAB BOOT line) is the only thing that differs between
# the builds of two selections: it has its own generated source, outside obj/, so that every
# object under obj/ is the same in every selection's folder (grader/build.py starts a new
# selection's folder from the objects of the others; make still decides what is stale).
$(B)/selection.c: $(B)/flags
	@printf '/* Generated by the Makefile: the selection this kernel was built with. */\nconst char KiNtlabSelection[] = "%s";\n' '$(SELNAME)' > $@

$(B)/selection.o: $(B)/selection.c
	@$(CC) $(CFLAGS) -c $< -o $@

# Two links: the symbol table (.ksyms, last in the image) is generated from the
# first (linked without debug sections: only its symbols are read) and filled in by the
# second; no other symbol may move.
$(B)/ntlab.elf: $(OBJS) $(B)/selection.o kernel/arch/x86_64/linker.ld tools/mksyms.py
	@echo "  LD  $@"
	@$(PY) tools/mksyms.py - > $(B)/ksyms0.c
	@$(CC) $(CFLAGS) -c $(B)/ksyms0.c -o $(B)/ksyms0.o
	@$(LD) $(LDFLAGS) -S -o $(B)/ntlab.pass1.elf $(OBJS) $(B)/selection.o $(B)/ksyms0.o
	@nm -n -S --defined-only $(B)/ntlab.pass1.elf > $(B)/pass1.nm
	@$(PY) tools/mksyms.py $(B)/pass1.nm > $(B)/ksyms.c
	@$(CC) $(CFLAGS) -c $(B)/ksyms.c -o $(B)/ksyms.o
	@$(LD) $(LDFLAGS) -o $@.tmp $(OBJS) $(B)/selection.o $(B)/ksyms.o
	@nm -n --defined-only $@.tmp | awk '$$2 ~ /^[Tt]$$/' > $(B)/final.check
	@awk '$$(NF-1) ~ /^[Tt]$$/ {print $$1, $$(NF-1), $$NF}' $(B)/pass1.nm > $(B)/pass1.check
	@cmp -s $(B)/pass1.check $(B)/final.check || { echo "ntlab: symbols moved between the two links" >&2; exit 1; }
	@mv $@.tmp $@

$(B)/ntlab.iso: $(B)/ntlab.elf $(B)/grub.cfg $(USER_IMAGES)
	@echo "  ISO $@"
	@rm -rf $(B)/isodir && mkdir -p $(B)/isodir/boot/grub
	@objcopy --strip-debug $< $(B)/isodir/boot/ntlab.elf
	@cp $(B)/grub.cfg $(B)/isodir/boot/grub/grub.cfg
	@cp -r $(USER_SET_DIRS) $(B)/isodir/boot/
	@grub-mkrescue -o $@.tmp --install-modules="$(GRUB_MODULES)" --locales= --fonts= --themes= \
	    $(B)/isodir > $(B)/grub-mkrescue.log 2>&1 || { cat $(B)/grub-mkrescue.log >&2; exit 1; }
	@mv $@.tmp $@

# GRUB as a "Linux kernel" for QEMU's -kernel: lnxboot.img, then a core image with an
# embedded config ($(B)/grub-core.cfg: the template with one module2 line a user image) that
# boots the kernel and the user images from the disk (hd0) = ntlab.disk.
$(B)/ntlab.lnx: $(B)/grub-core.cfg
	@echo "  LNX $@"
	@mkdir -p $(B)
	@grub-mkimage -d $(GRUB_DIR) -O i386-pc -o $(B)/core.img -c $(B)/grub-core.cfg \
	    -p '(hd0)/boot' $(CORE_MODULES)
	@cat $(GRUB_DIR)/lnxboot.img $(B)/core.img > $@.tmp
	@mv $@.tmp $@

# The disk GRUB's core reads: a tar archive of boot/ (the stripped kernel and the user images),
# QEMU -drive if=virtio.
$(B)/ntlab.disk: $(B)/ntlab.elf $(USER_IMAGES)
	@echo "  DSK $@"
	@rm -rf $(B)/memdisk && mkdir -p $(B)/memdisk/boot
	@objcopy --strip-debug $< $(B)/memdisk/boot/ntlab.elf
	@cp -r $(USER_SET_DIRS) $(B)/memdisk/boot/
	@tar -C $(B)/memdisk --format=ustar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	    -cf $@.tmp boot
	@mv $@.tmp $@

-include $(OBJS:.o=.d)

RUN_ARGS = --sol '$(SOL)' --ktest '$(KTEST)' --seed '$(or $(SEED),1)'
qemu:
	@$(PY) -m grader run $(RUN_ARGS)
qemu-gdb:
	@$(PY) -m grader run $(RUN_ARGS) --gdb
# make qemu-gdb picks a free port per user and records it in $(B)/gdbport; `make gdb` reads it.
GDBPORT ?= $(shell cat $(B)/gdbport 2>/dev/null || echo 1234)
# tools/gdb/ntlab.py: the nt commands (`nt help`); `nt attach` shows a kernel halted after a STOP
# (NTLAB_ON_STOP=halt) or runs a fresh one to KiSystemStartup.
GDB_NT := -iex 'set auto-load local-gdbinit off' -x tools/gdb/ntlab.py
gdb:
	gdb -q $(B)/ntlab.elf $(GDB_NT) -ex 'set architecture i386:x86-64' -ex 'target remote localhost:$(GDBPORT)' \
	    -ex 'nt attach'
# A crash dump (NTLAB_ON_STOP=dump) in GDB with the symbols of the same SOL= and the nt commands.
debug-dump:
	@test -n '$(DUMP)' || { echo "usage: make debug-dump [SOL=...] DUMP=build/dumps/<checkpoint>-<seed>.core" >&2; exit 2; }
	@test -f '$(DUMP)' || { echo "ntlab: no dump $(DUMP) (ls build/dumps/)" >&2; exit 2; }
	@test -f $(B)/ntlab.elf || { echo "ntlab: no $(B)/ntlab.elf: the dump needs the kernel it came from (same SOL=)" >&2; exit 2; }
	@gdb -q $(B)/ntlab.elf $(GDB_NT) -ex 'core-file $(DUMP)' -ex 'nt bugcheck'

GRADE_ARGS = --ntlab-sol='$(SOL)' $(if $(LAB),--ntlab-lab=$(LAB)) $(if $(CHECKPOINT),--ntlab-checkpoint=$(CHECKPOINT)) \
             $(if $(SEED),--ntlab-seed=$(SEED))
grade:
	@$(PY) -m pytest -p grader.plugin -p no:cacheprovider -q -n $(JOBS) $(GRADE_ARGS) labs

# Two workers: the mutation runner on one, every other test in order on the other (tests/conftest.py).
test:
	@NTLAB_ON_STOP= $(PY) -m pytest -p no:cacheprovider -q -n 2 --dist loadgroup tests

# Quick by default (the first checkpoint of each lab, one grade per path); FULL=1 is the long run.
bench:
	@$(PY) tests/bench_grade.py $(if $(filter-out 0,$(FULL)),--full)

# Handouts: contracts quoted from the source, citations checked, HTML site in build/handouts/.
handouts:
	@$(PY) tools/handouts.py all

# The student files of every lab (and a MANIFEST) in handin.tar.gz.
handin:
	@$(PY) -m grader handin

# The Gradescope autograder bundle: build/autograder.zip (setup.sh, run_autograder, the tree).
autograder:
	@$(PY) -m grader autograder --output build/autograder.zip

# A student tree: no solutions/ (RELEASE=0-1 ships those labs' reference files).
dist:
	@$(PY) tools/dist.py --release '$(RELEASE)'

deps:
	@tools/install-deps.sh && echo "ntlab: all tools present"

clean:
	rm -rf build

help:
	@echo "ntlab - an NT-style kernel lab course"
	@echo
	@echo "  make [SOL=...]            build build/<selection>/ntlab.iso"
	@echo "                            (and the user images, ntdll.dll and user/programs/*.c as PE32+, in .../user/)"
	@echo "  make images [SOL=...]     build what the grader boots (ntlab.elf; ntlab.lnx: GRUB core; ntlab.disk: kernel + user images)"
	@echo "  make grade [LAB=N]        boot every checkpoint in QEMU and print the score"
	@echo "                            (CHECKPOINT=name for one; SEED=n repeats a run; JOBS=n boots at once)"
	@echo "  make qemu KTEST=a,b       boot with those ktests, serial output on this terminal"
	@echo "  make qemu-gdb KTEST=...   the same, stopped for GDB on a free port (it prints the make gdb command)"
	@echo "                            (DEBUG=1 builds at -Og so GDB shows locals)"
	@echo "  make gdb [GDBPORT=n]      attach GDB with symbols, the nt commands, breakpoint at KiSystemStartup"
	@echo "  make debug-dump DUMP=f    open a crash dump (NTLAB_ON_STOP=dump) in GDB: bt, nt bugcheck, nt help"
	@echo "  make test                 the project's own tests: grader, boot, slicing, mutations, pipeline"
	@echo "  make bench [FULL=1]       time each boot path stage by stage, checkpoints and a whole grade"
	@echo "                            (quick: a checkpoint per lab; FULL=1: every checkpoint, several minutes)"
	@echo "  make dist [RELEASE=0-1]   a student tree in build/dist/ (no solutions but those released)"
	@echo "  make handin               pack your lab files into handin.tar.gz (what you submit)"
	@echo "  make handouts             quote the contracts from the source into handouts/, check them,"
	@echo "                            and render the course site build/handouts/index.html (pandoc)"
	@echo "  make autograder           build build/autograder.zip for Gradescope (instructors)"
	@echo "  make deps                 install the missing tools (or print the apt-get command)"
	@echo "  make clean                remove build/"
	@echo
	@echo "  SOL=none|all|N|A-B|A,B    labs whose reference solution is compiled in (default none)"
	@echo "  NTLAB_TIMEOUT_SCALE=2     double every checkpoint's timeout on a slow machine"
	@echo "  NTLAB_KVM=1               use KVM instead of software emulation"
	@echo "  NTLAB_ICOUNT=0            software emulation without instruction counting (not repeatable)"
	@echo "  NTLAB_ON_STOP=halt|dump   keep an unexpected STOP: halted for make gdb, or a dump in build/dumps/"
	@echo "  NTLAB_BOOT=iso|kernel     boot the grader's checkpoints from the ISO or the GRUB core image"
	@echo "                            (default: restore the state saved at the kernel's first instruction)"
