"""Checks of what a student built, not of how its text looks. Run by the submission pipeline
inside the compile sandbox (python3 -m grader.staticcheck build SPEC.json), after the
student files are preprocessed and compiled with the Makefile's own flags:

  the preprocessed source (gcc -E), parsed with a real C parser (Debian's python3-pycparser):
    - includes only from kernel/include, the lab's own folder and the compiler's freestanding
      headers, read from the preprocessor's line markers (so digraphs, macros and string
      splicing cannot hide an include);
    - no asm in the student's code (asm statements, asm labels, file-scope asm, .incbin);
    - no #pragma, no attributes outside a short allowed list (no section, alias, weak,
      constructor, visibility...);
    - no casts of integers or data pointers to function pointers, and no function pointer
      initialised or assigned from a non-function;
    - no identifier of the test framework, the runner's authentication, or the QEMU exit;
  each student object file (python3-pyelftools for symbols and sections, objdump for the code):
    - undefined symbols within the lab's API: what kernel/include and the lab's headers
      declare, minus the framework-only names;
    - no privileged instruction (binutils' objdump: port I/O, MSRs, control/debug registers, descriptor tables,
      hlt/cli/sti, popf, int n, far transfers...) except the lab's intrinsics (invlpg in lab 02);
    - no section of its own (only .text, .rodata*, .data*, .bss and debug information);
    - no global definition outside the names the lab's stub file defines.
Every check is linear in the size of its input and reports "file:line: why".

check_files(root, files) is the same source check run on the host for `python3 -m
grader.staticcheck [ROOT]` (a student can run it on their own tree).
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import shlex
import subprocess
import sys

# identifier -> why it is refused (the test framework, its authentication, the QEMU exit)
FORBIDDEN_IDENTIFIERS = {
    "HalExitQemu": "ends the QEMU run; only the framework's ktest runner and bugcheck code may",
    "HalReadFirmwareConfigFile": "reads QEMU's fw_cfg files, which carry the grader's secret",
    "HalSerialWrite": "writes the serial port directly; use DbgPrint",
    "HalSerialNewLineIfNeeded": "writes the serial port directly; use DbgPrint",
    "KiTestsStart": "walks the test registry",
    "KiTestsEnd": "walks the test registry",
    "KiTestCodeStart": "is the test code's bounds",
    "KiTestCodeEnd": "is the test code's bounds",
    "KiStopRecord": "prints the framework's STOP record",
    "KiBugCheckActive": "is the bugcheck's own state",
}
FORBIDDEN_PREFIXES = {
    "Kt": "is the ktest framework (tests use it; student code may not print or sign test records)",
    "KTEST": "is the ktest framework",
    "PKTEST": "is the ktest framework",
    "RtlHmacSha256": "computes the tags that authenticate the framework's records",
    "RtlSha256": "is the hash under the authentication tags",
    "__outbyte": "does port I/O", "__outword": "does port I/O", "__outdword": "does port I/O",
    "__inbyte": "does port I/O", "__inword": "does port I/O", "__indword": "does port I/O",
}
# Symbols a student object may define only if the stub does; may use if a header declares them.
ALLOWED_ATTRIBUTES = {"noreturn", "unused", "used", "maybe_unused", "format", "packed", "aligned",
                      "always_inline", "noinline", "cold", "hot", "const", "pure", "warn_unused_result",
                      "nonnull", "returns_nonnull", "malloc", "deprecated", "fallthrough", "may_alias",
                      "nonstring", "sentinel", "noclone", "no_reorder", "access"}
SECTION_RE = re.compile(r"^(\.text|\.text\.(unlikely|hot|startup)|\.rodata|\.rodata\.(str\d+\.\d+|cst\d+)|"
                        r"\.data|\.data\.rel\.ro(\.local)?|\.bss|\.comment|\.note\.GNU-stack|\.symtab|\.strtab|"
                        r"\.shstrtab|\.group|\.rela\.(text|rodata|data)(\..*)?|\.rela?\.debug_\w+|\.debug_\w+|)$")
_PRIV = [
    ("in ins insb insw insd out outs outsb outsw outsd", "port I/O"),
    ("rdmsr wrmsr", "a model-specific register"),
    ("hlt", "halts the processor"), ("cli", "masks interrupts"), ("sti", "enables interrupts"),
    ("popf popfq popfd", "can change IF and IOPL"),
    ("int int1 int3 into", "a software interrupt"), ("iret iretq iretd", "returns from an interrupt"),
    ("lgdt lidt lldt ltr sgdt sidt sldt str", "a descriptor table or the task register"),
    ("smsw lmsw clts", "CR0"), ("invd wbinvd", "the caches"), ("invlpg invpcid", "flushes the TLB"),
    ("swapgs wrfsbase wrgsbase", "a segment base"), ("sysret sysretq sysexit syscall sysenter", "mode switches"),
    ("xsetbv rdpmc monitor mwait rsm vmcall vmmcall", "a system instruction"),
    ("ljmp lcall retf retfq lret lretq", "a far transfer"),
]
PRIVILEGED = {mn: why for names, why in _PRIV for mn in names.split()}
LAB_INTRINSICS = {2: {"invlpg"},       # lab number -> privileged mnemonics its contract needs
                  4: {"cli", "sti", "popf", "popfq"}}   # lab 04 masks interrupts (_disable, __writeeflags)
COMPILER_HELPERS = {"memcpy", "memset", "memmove", "memcmp"}

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MARKER = re.compile(r'^#\s*(?:line\s+)?(\d+)\s+"((?:[^"\\]|\\.)*)"')


def _forbidden(ident: str) -> str | None:
    why = FORBIDDEN_IDENTIFIERS.get(ident)
    if why:
        return why
    for prefix, reason in FORBIDDEN_PREFIXES.items():
        if ident.startswith(prefix):
            return reason
    return None


# ---------------------------------------------------------------- tokens (linear)

_TOKEN = re.compile(r'''\s+|[A-Za-z_][A-Za-z0-9_]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\d[\w.]*|'''
                    r'''\.\.\.|<<=|>>=|->|\+\+|--|<<|>>|<=|>=|==|!=|&&|\|\||[-+*/%&|^!=<>]=|.''', re.S)


def tokens(line: str):
    """The tokens of one line of preprocessed C (no comments remain after gcc -E)."""
    return [m.group(0) for m in _TOKEN.finditer(line) if not m.group(0).isspace()]


def split_lines(text: str):
    """[(file, line, text)] for every source line of gcc -E output, from its line markers."""
    cur, no = "", 0
    out = []
    for raw in text.split("\n"):
        m = _MARKER.match(raw)
        if m:
            cur, no = m.group(2).encode().decode("unicode_escape"), int(m.group(1))
            out.append((cur, 0, None))
            continue
        out.append((cur, no, raw))
        no += 1
    return out


def _attribute_names(toks: list[str], i: int) -> tuple[list[str], int]:
    """Names inside __attribute__((...)) starting at toks[i] == '(' ; returns (names, index after)."""
    depth, names, expect = 0, [], False
    j = i
    while j < len(toks):
        t = toks[j]
        if t == "(":
            depth += 1
            if depth == 2:
                expect = True
        elif t == ")":
            depth -= 1
            if depth == 0:
                return names, j + 1
        elif t == "," and depth == 2:
            expect = True
        elif expect and depth == 2 and _IDENT.fullmatch(t):
            names.append(t.strip("_"))
            expect = False
        j += 1
    return names, j


def check_preprocessed(text: str, rel: str, lab_dir: str, compiler_include: str) -> tuple[list[str], set[str]]:
    """Source checks of one preprocessed student file. Returns (problems, the files it included)."""
    problems: list[str] = []
    included: set[str] = set()
    lines = split_lines(text)
    allowed_prefixes = ("kernel/include/", lab_dir + "/")
    for f, _no, raw in lines:
        if raw is None and f not in included:
            included.add(f)
            if f == rel or f in ("<built-in>", "<command-line>", "<stdin>") or f.endswith("//") or f.startswith(allowed_prefixes) and \
                    ".." not in f.split("/") or compiler_include and f.startswith(compiler_include + "/"):
                continue
            # a component's own header reached by a relative path (lab 08: kernel/mm/mi.h from
            # labs/08-usermode/vad.c or through kernel/include/mmpf.h): framework headers only
            norm = posixpath.normpath(f)
            if norm.startswith("kernel/") and norm.endswith(".h") and ".." not in norm.split("/") and \
                    (f.startswith(allowed_prefixes) or f.startswith(lab_dir + "/../../kernel/")):
                continue
            where = next((f"{rel}:{n}" for ff, n, r in lines if ff == rel and r is not None), f"{rel}:1")
            problems.append(f"{where}: includes {esc(f)}: only kernel/include, {lab_dir}/ and the compiler's "
                            f"freestanding headers may be included")
    # the student's own lines, joined per line with their tokens (a construct may span lines)
    toks: list[tuple[str, int]] = []
    for f, no, raw in lines:
        if raw is None or f != rel:
            continue
        s = raw.strip()
        if s.startswith("#"):
            if s.startswith("#pragma") or s.startswith("# pragma"):
                problems.append(f"{rel}:{no}: #pragma is not allowed in student files")
            continue
        toks += [(t, no) for t in tokens(raw)]
    words = [t for t, _ in toks]
    seen_forbidden = set()
    i = 0
    while i < len(toks):
        t, no = toks[i]
        if t in ("asm", "__asm__", "__asm"):
            problems.append(f"{rel}:{no}: assembly ({t}) is not allowed in student files; the framework "
                            f"offers the intrinsics a lab needs")
        elif t in ("__attribute__", "__attribute"):
            names, j = _attribute_names(words, i + 1)
            bad = [n for n in names if n not in ALLOWED_ATTRIBUTES]
            for n in bad:
                problems.append(f"{rel}:{no}: __attribute__(({esc(n)})) is not allowed in student files "
                                f"(allowed: {', '.join(sorted(ALLOWED_ATTRIBUTES))})")
            i = max(j, i + 1)
            continue
        elif t == "_Pragma":
            problems.append(f"{rel}:{no}: _Pragma is not allowed in student files")
        elif _IDENT.fullmatch(t) and (t, no) not in seen_forbidden:
            why = _forbidden(t)
            if why:
                seen_forbidden.add((t, no))
                problems.append(f"{rel}:{no}: uses {t}, which {why}")
        i += 1
    return problems, included


# ---------------------------------------------------------------- the C parser

_GNU_WORDS = {"__extension__": "", "__inline__": "inline", "__inline": "inline", "__restrict__": "restrict",
              "__restrict": "restrict", "__volatile__": "volatile", "__const": "const", "__signed__": "signed",
              "__builtin_offsetof": "offsetof", "_Noreturn": "", "__alignof__": "sizeof", "_Alignof": "sizeof"}


def _clean_for_parser(text: str, rel: str = "") -> str:
    """gcc -E output that pycparser can parse: GNU attributes and asm removed (checked by
    check_preprocessed), GNU spellings mapped to C99; line structure kept for coordinates.
    The bodies of the headers' (framework) inline functions become prototypes: the checks
    look at the student's code, and the parser has less to read."""
    out_lines = []
    pending_attr = 0        # open parentheses of an __attribute__ or asm spanning lines
    cur = ""
    depth = 0               # brace depth of the whole translation unit
    skipping = 0            # >0: inside a header function's body (its depth)
    last = ""               # the last token kept
    for raw in text.split("\n"):
        if raw.startswith("#"):
            m = _MARKER.match(raw)
            if m:
                cur = m.group(2)
            out_lines.append(raw if m else "")
            continue
        own = cur == rel
        out = []
        for m in _TOKEN.finditer(raw):
            t = m.group(0)
            if t.isspace():
                continue
            if skipping:
                if t == "{":
                    depth += 1
                elif t == "}":
                    depth -= 1
                    if depth < skipping:
                        skipping = 0
                        out.append(";")
                        last = ";"
                continue
            if pending_attr:
                if t == "(":
                    pending_attr += 1
                elif t == ")":
                    pending_attr -= 1
                    if pending_attr == 1:       # closed the outer parenthesis
                        pending_attr = 0
                        if out and out[-1] == "@asm":
                            out[-1] = "(void)0"
                continue
            if t in ("__attribute__", "__attribute", "asm", "__asm__", "__asm"):
                pending_attr = 1                # waiting for '('
                if t not in ("__attribute__", "__attribute"):
                    out.append("@asm")
                continue
            if t in ("volatile", "goto", "inline", "__volatile__", "__inline__") and out and out[-1] == "@asm":
                continue
            if t == "{":
                if not own and rel and depth == 0 and last == ")":
                    depth += 1
                    skipping = depth
                    continue
                depth += 1
            elif t == "}":
                depth = max(0, depth - 1)
            t = _GNU_WORDS.get(t, t)
            out.append(t)
            last = t
        out_lines.append(" ".join(x for x in out if x != "@asm"))
    prelude = "typedef int __builtin_va_list; typedef int _Bool_t;\n"
    return prelude + "\n".join(out_lines)


def parse_c(text: str, rel: str = ""):
    """(pycparser AST, None) or (None, "line: why"); rel: the student's file (its code is
    parsed whole, the headers' function bodies are not)."""
    try:
        from pycparser import c_parser
    except ImportError:
        return None, "python3-pycparser is not installed (apt-get install python3-pycparser)"
    try:
        return c_parser.CParser().parse(_clean_for_parser(text, rel), "<preprocessed>"), None
    except Exception as e:     # pycparser raises ParseError (and can fail on deep nesting)
        return None, str(e)


# ---------------------------------------------------------------- the headers, parsed once
#
# Most of a student file's preprocessed text is the headers it includes (about 85% of the
# parser's time). The part before the student's first line of code (the prefix) is the same for
# every submission that includes the same headers the same way, so the pipeline parses the
# prefix of each stub once on the host (header_cache(), from the framework's files only) and
# the check inside the sandbox parses only the rest, starting from the parser's symbol table at
# the end of the prefix. A prefix is looked up by its exact text less what places no code (the
# line markers and blank lines of the student's own file and of the working folder: every
# header starts with its own marker): any other prefix (another include, a macro defined
# first) is parsed whole as before.

def _split_prefix(cleaned: str, rel: str) -> tuple[int, int, str] | None:
    """(index of the student's first line of code in the cleaned text, its line number in rel,
    the SHA-256 of the prefix's text without rel's and the working folder's markers), or None
    when the file has no code of its own."""
    import hashlib
    lines = cleaned.split("\n")
    cur, line_no = None, 0
    key = hashlib.sha256()
    for i, raw in enumerate(lines):
        if raw.startswith("#"):
            m = _MARKER.match(raw)
            if m:
                cur, line_no = m.group(2), int(m.group(1))
                if cur == rel or cur.endswith("//"):
                    continue
            key.update(raw.encode() + b"\n")
            continue
        if cur == rel and raw.strip():
            return i, line_no, key.hexdigest()
        if cur != rel and not (cur or "").endswith("//"):   # the blank lines of those place nothing
            key.update(raw.encode() + b"\n")
        line_no += 1
    return None


def _seeded_parse(text: str, scope: dict):
    """Parse text as the continuation of a translation unit whose file-scope names are scope
    (pycparser 2.x's parser state: {name: is a type name})."""
    from pycparser import c_parser
    p = c_parser.CParser()
    p.clex.filename = "<preprocessed>"
    p.clex.reset_lineno()
    p._scope_stack = [dict(scope)]
    p._last_yielded_token = None
    return p.cparser.parse(input=text, lexer=p.clex)


def _parse_after_prefix(cleaned: str, rel: str, headers: str):
    """The AST of cleaned from the cached prefix and the parse of the rest, or None (not cached,
    or anything unexpected: the caller parses the whole text)."""
    import pickle
    try:
        split = _split_prefix(cleaned, rel)
        if split is None:
            return None
        at, line_no, key = split
        path = os.path.join(headers, key + ".pickle")
        if not os.path.isfile(path):
            return None
        with open(path, "rb") as f:
            ext, scope = pickle.load(f)
        from pycparser import c_ast
        lines = cleaned.split("\n")
        rest = f'# {line_no} "{rel}"\n' + "\n".join(lines[at:])
        tail = _seeded_parse(rest, scope)
        return c_ast.FileAST(list(ext) + list(tail.ext))
    except Exception:
        return None


def parse_prefix(cleaned: str, rel: str) -> tuple[str, bytes] | None:
    """(key, pickled (file-scope declarations, parser symbol table)) of a cleaned file's prefix."""
    import pickle
    from pycparser import c_parser
    split = _split_prefix(cleaned, rel)
    if split is None:
        return None
    at, _line_no, key = split
    p = c_parser.CParser()
    ast = p.parse("\n".join(cleaned.split("\n")[:at]), "<preprocessed>")
    if len(p._scope_stack) != 1:
        return None
    return key, pickle.dumps((ast.ext, p._scope_stack[0]), protocol=pickle.HIGHEST_PROTOCOL)


def header_cache(tree: str, rels, cflags: list[str], dest: str) -> dict[str, str]:
    """Parse the header prefix of each file rels names as it is in tree (the pristine tree: the
    stubs), preprocessed with cflags, into dest/<key>.pickle. Runs on the host, on the
    framework's files only. Returns {file: key} of the prefixes written."""
    os.makedirs(dest, exist_ok=True)
    written: dict[str, str] = {}
    for rel in sorted(rels):
        if not os.path.isfile(os.path.join(tree, rel)):
            continue
        r = subprocess.run(["gcc"] + cflags + ["-E", rel, "-o", "-"], cwd=tree, capture_output=True, text=True,
                           timeout=120)
        if r.returncode != 0:
            continue
        try:
            got = parse_prefix(_clean_for_parser(r.stdout, rel), rel)
        except Exception:
            continue
        if got is None:
            continue
        key, data = got
        tmp = os.path.join(dest, f"{key}.tmp{os.getpid()}")
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, os.path.join(dest, key + ".pickle"))
        written[rel] = key
    return written


def _is_funcptr(t, typedefs, depth=0) -> bool:
    from pycparser import c_ast
    if depth > 20:
        return False
    while isinstance(t, c_ast.Typename) or isinstance(t, c_ast.Decl):
        t = t.type
    if isinstance(t, c_ast.PtrDecl):
        inner = t.type
        while isinstance(inner, c_ast.TypeDecl) and isinstance(inner.type, c_ast.IdentifierType):
            name = " ".join(inner.type.names)
            if name in typedefs:
                inner = typedefs[name]
            else:
                break
        return isinstance(inner, c_ast.FuncDecl)
    if isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.IdentifierType):
        name = " ".join(t.type.names)
        if name in typedefs:
            return _is_funcptr(typedefs[name], typedefs, depth + 1)
    return False


def check_ast(ast, rel: str) -> tuple[list[str], set[str]]:
    """(problems in the student's own code, names the headers declare as functions or externs)."""
    from pycparser import c_ast
    problems: list[str] = []
    declared: set[str] = set()
    typedefs: dict = {}
    functions: set[str] = set()
    funcptrs: set[str] = set()
    returns_funcptr: set[str] = set()   # functions declared to return a function pointer

    def own(node) -> bool:
        return node is not None and node.coord is not None and node.coord.file == rel

    def fn_value(expr) -> bool:
        """expr is a function designator, a function pointer variable or member, &function or 0."""
        if isinstance(expr, c_ast.UnaryOp) and expr.op == "&":
            expr = expr.expr
        if isinstance(expr, c_ast.ID):
            return expr.name in functions or expr.name in funcptrs
        if isinstance(expr, c_ast.StructRef):       # dpc->DeferredRoutine: a member declared as one
            return expr.field.name in funcptrs
        if isinstance(expr, c_ast.Constant):
            return expr.value in ("0", "0L", "0UL", "0ULL")
        if isinstance(expr, c_ast.Cast):
            return _is_funcptr(expr.to_type, typedefs) and fn_value(expr.expr)
        if isinstance(expr, c_ast.TernaryOp):
            return fn_value(expr.iftrue) and fn_value(expr.iffalse)
        if isinstance(expr, c_ast.FuncCall) and isinstance(expr.name, c_ast.ID):
            return expr.name.name in returns_funcptr   # IoSetCancelRoutine(...) returns the old routine
        return False

    stack = [ast]
    while stack:
        node = stack.pop()
        if isinstance(node, c_ast.Typedef):
            typedefs[node.name] = node.type
        elif isinstance(node, c_ast.Decl) and node.name:
            if isinstance(node.type, c_ast.FuncDecl):
                functions.add(node.name)
                if _is_funcptr(node.type.type, typedefs):
                    returns_funcptr.add(node.name)
                if node.coord and node.coord.file != rel and "static" not in (node.storage or []):
                    declared.add(node.name)
            elif "extern" in (node.storage or []) and node.coord and node.coord.file != rel:
                declared.add(node.name)
            if _is_funcptr(node.type, typedefs):
                funcptrs.add(node.name)
                if own(node) and node.init is not None and not fn_value(node.init):
                    problems.append(f"{rel}:{node.coord.line}: {node.name} is a function pointer initialised "
                                    f"from a value that is not a function")
        elif isinstance(node, c_ast.FuncDef):
            functions.add(node.decl.name)
        elif isinstance(node, c_ast.Cast) and own(node) and _is_funcptr(node.to_type, typedefs):
            if not fn_value(node.expr):
                problems.append(f"{rel}:{node.coord.line}: casts an integer or data pointer to a function "
                                f"pointer")
        elif isinstance(node, c_ast.Assignment) and own(node) and isinstance(node.lvalue, c_ast.ID) and \
                node.lvalue.name in funcptrs and not fn_value(node.rvalue):
            problems.append(f"{rel}:{node.coord.line}: assigns a value that is not a function to the "
                            f"function pointer {node.lvalue.name}")
        # children in source order (the stack is LIFO)
        stack.extend(reversed([c for _n, c in node.children()]))
    return problems, declared


# ---------------------------------------------------------------- objects

def object_symbols(path: str) -> tuple[set[str], set[str]]:
    """(global definitions, undefined symbols) of an ELF object."""
    from elftools.elf.elffile import ELFFile
    defined, undefined = set(), set()
    with open(path, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for s in symtab.iter_symbols() if symtab else []:
            if not s.name or s["st_info"]["type"] in ("STT_FILE", "STT_SECTION"):
                continue
            if s["st_shndx"] == "SHN_UNDEF":
                undefined.add(s.name)
            elif s["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK", "STB_GNU_UNIQUE"):
                defined.add(s.name)
    return defined, undefined


_PREFIXES = {"rep", "repz", "repe", "repnz", "repne", "lock", "data16", "data32", "addr32", "cs", "ds", "ss", "es",
             "fs", "gs", "notrack", "bnd", "rex", "rex.w", "xacquire", "xrelease"}
_INSN = re.compile(r"^\s*([0-9a-f]+):\s+(.*)$")
_LINE = re.compile(r"^(\S+):(\d+)(?: \(discriminator \d+\))?$")


def _privileged(insn: str) -> str | None:
    """Why an objdump (AT&T) instruction is privileged, or None."""
    words = insn.split()
    while words and words[0] in _PREFIXES:
        words = words[1:]
    if not words:
        return None
    mn, ops = words[0], " ".join(words[1:])
    why = PRIVILEGED.get(mn)
    if why is None and len(mn) > 2 and mn[-1] in "bwlq" and mn[:-1] in PRIVILEGED:
        why, mn = PRIVILEGED[mn[:-1]], mn[:-1]
    if why is None and mn.startswith("mov") and re.search(r"%[cd]r\d+\b", ops):
        why = "a control or debug register"
    if why is None and mn.startswith("mov") and re.search(r",\s*%(cs|ss)\b", ops):
        why = "a segment register"
    return f"{mn}|{why}" if why else None


def check_object(path: str, rel: str, lab: int, allowed_defs: set[str], api: set[str]) -> list[str]:
    """Problems of one student object file (see the module comment). Symbols and sections are
    read with pyelftools; the code is disassembled by binutils' objdump (linear sweep, with
    the source line of each instruction from the debug information)."""
    from elftools.elf.elffile import ELFFile
    problems: list[str] = []
    intrinsics = LAB_INTRINSICS.get(lab, set())
    with open(path, "rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        for s in symtab.iter_symbols() if symtab else []:
            if not s.name or s["st_info"]["type"] in ("STT_FILE", "STT_SECTION"):
                continue
            if s["st_shndx"] == "SHN_UNDEF":
                if s.name not in api or _forbidden(s.name):
                    why = _forbidden(s.name) or "is not part of the lab's interface (kernel/include and the " \
                                                "lab's headers)"
                    problems.append(f"{rel}:1: uses {esc(s.name)}, which {why}")
            elif s["st_info"]["bind"] != "STB_LOCAL" and s.name not in allowed_defs:
                problems.append(f"{rel}:1: defines the global symbol {esc(s.name)}, which is not one of the "
                                f"lab's names (make it static, or use the names of the stub file)")
        for sec in elf.iter_sections():
            if not SECTION_RE.match(sec.name):
                problems.append(f"{rel}:1: has its own section {esc(sec.name)} (only .text, .rodata, .data, "
                                f".bss and debug information)")
    r = subprocess.run(["objdump", "-d", "-l", "-w", "--no-show-raw-insn", path], capture_output=True, text=True,
                       timeout=120)
    if r.returncode != 0:
        return problems + [f"{rel}:1: objdump cannot read the object ({esc(r.stderr.strip()[-200:])})"]
    where, func, own = f"{rel}:1", "?", "1"
    for line in r.stdout.splitlines():
        m = _LINE.match(line)
        if m:
            f, no = m.group(1), m.group(2)
            if f.endswith(rel):
                own = no
                where = f"{rel}:{no}"
            else:
                where = f"{rel}:{own} (inlined from {esc(os.path.basename(f))}:{no})"
            continue
        if line.endswith(">:"):
            func = line.split("<", 1)[-1][:-2]
            continue
        m = _INSN.match(line)
        if not m:
            continue
        insn = m.group(2).split("#")[0].strip()
        if insn.startswith("(bad)"):
            problems.append(f"{where}: bytes in {esc(func)} at {m.group(1)} are not valid x86-64 instructions")
            continue
        hit = _privileged(insn)
        if hit:
            mn, why = hit.split("|", 1)
            if mn not in intrinsics:
                problems.append(f"{where} (in {esc(func)}): privileged instruction '{esc(insn)}' ({why}); "
                                f"student code may not use it")
    return problems


def esc(text: str) -> str:
    """text with control bytes, quotes and non-ASCII escaped (safe in logs and terminals)."""
    return "".join(c if 0x20 <= ord(c) < 0x7f and c not in "\"\\" else
                   ("\\" + c if c in "\"\\" else repr(c)[1:-1] if ord(c) < 0x100 else f"\\u{ord(c):04x}")
                   for c in str(text))


# ---------------------------------------------------------------- the sandboxed build step

def build_step(spec: dict) -> dict:
    """Run inside the compile sandbox (cwd: the compile tree). spec: {"files": {rel: lab number},
    "stubs": {rel: path of the stub copy}, "objdir": "build/none/obj"}. Preprocesses, checks,
    compiles each student file and checks its object. Returns {"problems": [...],
    "diagnostics": "...", "built": [rel...]}."""
    cflags = spec.get("cflags")
    if not cflags:
        env = dict(os.environ, NTLAB_DEPS_OK="1")
        r = subprocess.run(["make", "-s", "--no-print-directory", "SOL=none", "print-cflags"], capture_output=True,
                           text=True, env=env, timeout=120)
        if r.returncode != 0:
            return {"problems": [], "diagnostics": "", "error": "make print-cflags failed: " + r.stderr[-2000:]}
        cflags = [c for c in shlex.split(r.stdout) if c not in ("-MMD", "-MP")]
    inc = subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True).stdout.strip()
    headers = spec.get("headers")
    if headers and not os.path.isdir(headers):
        headers = None
    jobs = [(rel, lab, cflags, inc, spec["objdir"], spec["stubs"].get(rel), spec.get("allowed_defs", {}).get(rel),
             headers) for rel, lab in sorted(spec["files"].items())]
    if len(jobs) > 1:
        from concurrent.futures import ProcessPoolExecutor
        import elftools.elf.elffile  # noqa: F401 (imported once, before the workers fork)
        import pycparser.c_parser  # noqa: F401 (the same)
        with ProcessPoolExecutor(max_workers=min(len(jobs), max(1, min(os.cpu_count() or 1, 4)))) as pool:
            outcomes = list(pool.map(_build_one, jobs))
    else:
        outcomes = [_build_one(j) for j in jobs]
    problems = [p for o in outcomes for p in o[0]]
    diags = "".join(o[1] for o in outcomes)
    built = [rel for (rel, *_rest), o in zip(jobs, outcomes) if o[2]]
    return {"problems": problems, "diagnostics": diags, "built": built, "cflags": cflags,
            "headers_cached": sum(1 for o in outcomes if o[3])}


def _build_one(job) -> tuple[list[str], str, bool, bool]:
    """One student file: compile (keeping the preprocessed source), check the source, check
    the object. Returns (problems, compiler diagnostics, built and accepted, its headers came
    parsed from the cache)."""
    rel, lab, cflags, inc, objdir, stub, allowed, headers = job
    lab_dir = "/".join(rel.split("/")[:2])
    base = rel[:-2]
    tmp_obj = os.path.join("build", "check", base + ".o")
    os.makedirs(os.path.dirname(tmp_obj), exist_ok=True)
    cc = subprocess.run(["gcc"] + cflags + ["-save-temps=obj", "-c", rel, "-o", tmp_obj], capture_output=True,
                        text=True, timeout=300)
    if cc.returncode != 0:
        return [], cc.stderr, False, False
    with open(tmp_obj[:-2] + ".i", encoding="utf-8", errors="replace") as f:
        text = f.read()
    mine, _inc = check_preprocessed(text, rel, lab_dir, inc)
    # the headers' part from the cache (_parse_after_prefix: the same AST), else the whole file
    ast, err = (_parse_after_prefix(_clean_for_parser(text, rel), rel, headers) if headers else None), None
    cached = ast is not None
    if not cached:
        ast, err = parse_c(text, rel)
    declared: set[str] = set()
    if ast is None:
        m = re.search(r":(\d+):", err or "")
        mine.append(f"{rel}:{m.group(1) if m else 1}: the checker's C parser (pycparser) cannot read this "
                    f"code ({esc((err or '').split(': ', 1)[-1][:200])}); write plain C11 without GNU "
                    f"extensions")
    else:
        more, declared = check_ast(ast, rel)
        mine += more
    if mine:
        return mine, "", False, cached
    if allowed is not None:
        allowed_defs = set(allowed)
    else:
        allowed_defs = set()
        if stub:
            sobj = os.path.join("build", "check", base + ".stub.o")
            sc = subprocess.run(["gcc"] + cflags + ["-c", stub, "-o", sobj], capture_output=True, text=True,
                                timeout=300)
            if sc.returncode == 0:
                allowed_defs = object_symbols(sobj)[0]
    api = {n for n in declared if not _forbidden(n)} | COMPILER_HELPERS
    objp = check_object(tmp_obj, rel, lab, allowed_defs, api)
    if objp:
        return objp, "", False, cached
    obj = os.path.join(objdir, base + ".o")
    os.makedirs(os.path.dirname(obj), exist_ok=True)
    os.replace(tmp_obj, obj)
    return [], "", True, cached


# ---------------------------------------------------------------- on the host

def check_files(root: str, files: dict[str, str]) -> list[str]:
    """Source checks of student files on this machine (preprocessed with the tree's headers).
    files maps the path in the tree (labs/NN-name/file.c) to the file to read."""
    root = os.path.abspath(root)
    inc = subprocess.run(["gcc", "-print-file-name=include"], capture_output=True, text=True).stdout.strip()
    problems: list[str] = []
    for rel in sorted(files):
        lab_dir = "/".join(rel.split("/")[:2])
        r = subprocess.run(["gcc", "-std=gnu11", "-ffreestanding", "-Ikernel/include", f"-I{lab_dir}", "-E",
                            "-x", "c", "-", "-o", "-"], cwd=root, input=_with_marker(files[rel], rel),
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            problems.append(f"{rel}:1: does not preprocess: {r.stderr.strip().splitlines()[-1:]}")
            continue
        mine, _ = check_preprocessed(r.stdout, rel, lab_dir, inc)
        ast, err = parse_c(r.stdout, rel)
        if ast is None:
            mine.append(f"{rel}:1: the checker's C parser cannot read this code ({err})")
        else:
            mine += check_ast(ast, rel)[0]
        problems += mine
    return problems


def _with_marker(path: str, rel: str) -> str:
    with open(path, encoding="utf-8", errors="replace") as f:
        return f'# 1 "{rel}"\n' + f.read()


def student_files(root: str) -> dict[str, str]:
    """Every student file of the tree: labs/NN-name/file -> its path."""
    from grader.handin import student_paths
    return {rel: os.path.join(root, rel) for rel in student_paths(root)}


def main(argv: list[str]) -> int:
    """python3 -m grader.staticcheck [ROOT]: check the student files of a tree.
    python3 -m grader.staticcheck build SPEC OUT: the pipeline's sandboxed build step."""
    if argv[:1] == ["build"]:
        with open(argv[1], encoding="utf-8") as f:
            spec = json.load(f)
        try:
            result = build_step(spec)
        except Exception as e:                  # a crash of the checker refuses, never passes
            result = {"problems": [f"{next(iter(sorted(spec['files'])), '?')}:1: the checker failed "
                                   f"({type(e).__name__}); the submission is refused"], "diagnostics": "",
                      "built": []}
        with open(argv[2] + ".tmp", "w", encoding="utf-8") as f:
            json.dump(result, f)
        os.replace(argv[2] + ".tmp", argv[2])
        return 0
    root = os.path.abspath(argv[0] if argv else ".")
    problems = check_files(root, student_files(root))
    for p in problems:
        print(p)
    print(f"ntlab: static check: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
