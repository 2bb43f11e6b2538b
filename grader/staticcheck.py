"""Static check of student files, run by the submission pipeline before anything is built:
refuses code that could end the QEMU run or forge the grader's records by other means than
the lab's interfaces - port I/O (fw_cfg 0x510/0x511, isa-debug-exit 0xF4, the serial port),
HalExitQemu / HalReadFirmwareConfigFile, the runner's authentication key and functions,
test registration (KTEST, the .ktests section), includes outside kernel/include or the lab's
own folder, and (re)definitions of framework symbols and macros.

check_files(root, files) -> list of "labs/NN-name/file.c:LINE: why" messages (empty = ok).
It is a line-level screen, not a proof: the pipeline also authenticates the kernel's records.
"""
from __future__ import annotations

import os
import re
import sys

# Compiler-provided freestanding headers a student may include with <...>.
FREESTANDING = {"stdarg.h", "stddef.h", "stdint.h", "stdbool.h", "stdalign.h", "stdnoreturn.h",
                "limits.h", "float.h", "iso646.h"}

# identifier -> why it is refused
FORBIDDEN_IDENTIFIERS = {
    "HalExitQemu": "ends the QEMU run; only the framework's ktest runner and bugcheck code may",
    "HalReadFirmwareConfigFile": "reads QEMU's fw_cfg files, which carry the grader's secret",
    "HalSerialWrite": "writes the serial port directly; use DbgPrint",
    "KtRunTests": "runs the test framework",
    "KiTestsStart": "walks the test registry",
    "KiTestsEnd": "walks the test registry",
    "KTEST": "registers a ktest; tests belong to the lab's tests/ folder",
    "KTEST_EX": "registers a ktest; tests belong to the lab's tests/ folder",
    "KTEST_STOP": "registers a ktest; tests belong to the lab's tests/ folder",
    "KiStopRecord": "prints the framework's STOP record",
    "KiBugCheckActive": "is the bugcheck's own state",
}
FORBIDDEN_PREFIXES = {
    "KtpAuth": "is the ktest runner's authentication key and state",
    "Kt": "is the ktest framework (tests use it; student code may not print or sign test records)",
    "KTEST_CONTEXT": "is the ktest framework's test context",
    "PKTEST_CONTEXT": "is the ktest framework's test context",
    "KtAuth": "tags the framework's records with the grader's key",
    "KtEmit": "prints the framework's authenticated records",
    "KtpEmit": "prints the framework's authenticated records",
    "KtpLastTag": "is the ktest runner's authentication state",
    "RtlHmacSha256": "computes the tags that authenticate the framework's records",
    "__outbyte": "does port I/O (isa-debug-exit 0xF4, fw_cfg 0x510/0x511, COM1)",
    "__outword": "does port I/O (isa-debug-exit 0xF4, fw_cfg 0x510/0x511, COM1)",
    "__outdword": "does port I/O (isa-debug-exit 0xF4, fw_cfg 0x510/0x511, COM1)",
    "__inbyte": "does port I/O (fw_cfg 0x510/0x511, COM1)",
    "__inword": "does port I/O (fw_cfg 0x510/0x511, COM1)",
    "__indword": "does port I/O (fw_cfg 0x510/0x511, COM1)",
}
PORTS = {0x510: "the fw_cfg selector port 0x510", 0x511: "the fw_cfg data port 0x511",
         0xF4: "the isa-debug-exit port 0xF4", 0x3F8: "the serial port COM1 (0x3F8)"}

_IDENT_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ASM_RE = re.compile(r"\b(?:__asm__|__asm|asm)\b")
_PORT_INSN_RE = re.compile(r"(?<![A-Za-z0-9_.%$])(?:in|out|ins|outs)[bwlq]?\b", re.I)
_ASM_DIRECTIVE_RE = re.compile(r"\.(?:incbin|include|section|pushsection)\b")
_NUM_RE = re.compile(r"\b(0[xX][0-9A-Fa-f]+|[0-9]+)[uUlL]*\b")
_DEF_RE = re.compile(r"^\s*#\s*(define|undef)\s+([A-Za-z_][A-Za-z0-9_]*)")
_INCLUDE_RE = re.compile(r'^\s*#\s*(include|include_next|import)\b\s*(.*)$')
_FUNC_DEF_RE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\([^;{}]*\)\s*(?:__attribute__\s*\(\(.*?\)\)\s*)*\{")
_VAR_DEF_RE = re.compile(r"^(?!\s*(?:static|extern|typedef|return)\b)[A-Za-z_][\w\s\*]*?\b([A-Za-z_]\w*)\s*"
                         r"(?:\[[^\]]*\])?\s*(?:=[^;]*)?;\s*$")
_SECTION_RE = re.compile(r"__attribute__\s*\(\(.*\b(section|alias|weak|constructor)\b")


def _strip(text: str) -> tuple[str, str]:
    """(code with comments blanked, code with comments and string/char literals blanked);
    newlines are kept so that line numbers stay right."""
    keep_str, no_str = [], []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            keep_str.append(" " * (j - i)), no_str.append(" " * (j - i))
            i = j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank = "".join("\n" if ch == "\n" else " " for ch in text[i:j])
            keep_str.append(blank), no_str.append(blank)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            j = min(j + 1, n)
            keep_str.append(text[i:j])
            no_str.append(c + " " * max(0, j - i - 2) + (c if j - i >= 2 else ""))
            i = j
        else:
            keep_str.append(c), no_str.append(c)
            i += 1
    return "".join(keep_str), "".join(no_str)


def _depths(code: str) -> list[int]:
    """Brace depth before each character of code (comments and strings already blanked)."""
    out, d = [], 0
    for ch in code:
        out.append(d)
        if ch == "{":
            d += 1
        elif ch == "}":
            d = max(0, d - 1)
    out.append(d)
    return out


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def framework_symbols(root: str, student_paths: set[str]) -> tuple[set[str], set[str]]:
    """(functions and globals defined by the framework's .c files, macros of kernel/include)."""
    funcs: set[str] = set()
    macros: set[str] = set()
    for base in ("kernel", "labs"):
        for dirpath, _dirs, names in os.walk(os.path.join(root, base)):
            for name in names:
                path = os.path.join(dirpath, name)
                rel = os.path.relpath(path, root).replace(os.sep, "/")
                if rel in student_paths or base == "labs" and "/tests/" not in rel:
                    continue
                if name.endswith(".c"):
                    try:
                        code = _strip(open(path, encoding="utf-8", errors="replace").read())[1]
                    except OSError:
                        continue
                    depth = _depths(code)
                    for m in _FUNC_DEF_RE.finditer(code):
                        if depth[m.start()]:
                            continue
                        start = code.rfind("\n", 0, m.start()) + 1
                        head = code[start:m.start()]
                        if "static" not in head and m.group(1) not in ("if", "for", "while", "switch"):
                            funcs.add(m.group(1))
                elif name.endswith(".h"):
                    try:
                        for line in open(path, encoding="utf-8", errors="replace"):
                            m = _DEF_RE.match(line)
                            if m and m.group(1) == "define":
                                macros.add(m.group(2))
                    except OSError:
                        pass
    return funcs, macros


def _include_ok(target: str, root: str, lab_dir: str) -> str | None:
    """None if an include target is allowed, else why not."""
    target = target.strip()
    m = re.match(r'^"([^"]*)"', target) or re.match(r"^<([^>]*)>", target)
    if not m:
        return f"#include {target}: only #include \"file.h\" or <file.h> with a literal name is allowed"
    name = m.group(1)
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or not name:
        return f"#include {target}: absolute paths and '..' are not allowed"
    if target.startswith("<"):
        if name in FREESTANDING or os.path.isfile(os.path.join(root, "kernel", "include", name)):
            return None
        return f"#include {target}: only kernel/include headers and the compiler's freestanding headers"
    if os.path.isfile(os.path.join(root, "kernel", "include", name)) or \
            os.path.isfile(os.path.join(root, lab_dir, name)):
        return None
    return f"#include {target}: not a header of kernel/include or of {lab_dir}/"


def check_text(text: str, rel: str, root: str, lab_dir: str, funcs: set[str], macros: set[str]) -> list[str]:
    """The problems of one student file (rel: its path in the tree, e.g. labs/01-pfn/pfndb.c)."""
    problems: list[str] = []
    text = text.replace("\\\r\n", "").replace("\\\n", "")     # join continued lines first
    with_str, code = _strip(text)

    def say(pos_or_line, why):
        line = pos_or_line if isinstance(pos_or_line, int) and pos_or_line < 0 else None
        no = -pos_or_line if line is not None else _line_of(code, pos_or_line)
        problems.append(f"{rel}:{no}: {why}")

    if "\0" in text:
        problems.append(f"{rel}:1: the file contains NUL bytes (not a C source file)")
    for no, line in enumerate(code.split("\n"), 1):
        m = _INCLUDE_RE.match(line)
        if m:
            if m.group(1) != "include":
                problems.append(f"{rel}:{no}: #{m.group(1)} is not allowed")
            else:
                raw = with_str.split("\n")[no - 1]
                why = _include_ok(_INCLUDE_RE.match(raw).group(2), root, lab_dir)
                if why:
                    problems.append(f"{rel}:{no}: {why}")
            continue
        m = _DEF_RE.match(line)
        if m and m.group(2) in macros:
            problems.append(f"{rel}:{no}: #{m.group(1)} {m.group(2)} redefines a framework macro "
                            f"(kernel/include)")
        if "##" in line:
            problems.append(f"{rel}:{no}: token pasting (##) is not allowed in student files "
                            f"(it can assemble names the static check refuses)")
        if re.match(r"^\s*#\s*(pragma\s+(push_macro|pop_macro|GCC\s+poison|redefine_extname)|line\b)", line):
            problems.append(f"{rel}:{no}: this preprocessor directive is not allowed in student files")
        if _SECTION_RE.search(line):
            problems.append(f"{rel}:{no}: __attribute__(({_SECTION_RE.search(line).group(1)})) is not "
                            f"allowed in student files (it can hook into the framework)")
    for m in _IDENT_RE.finditer(code):
        ident = m.group(0)
        why = FORBIDDEN_IDENTIFIERS.get(ident)
        if why is None:
            for prefix, reason in FORBIDDEN_PREFIXES.items():
                if ident.startswith(prefix):
                    why = reason
                    break
        if why:
            say(m.start(), f"uses {ident}, which {why}")
    for m in _ASM_RE.finditer(code):
        # the asm statement: up to the matching ')' (strings kept, for the instructions)
        start = m.end()
        depth, j = 0, start
        while j < len(with_str):
            ch = with_str[j]
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth <= 0:
                    break
            elif ch == ";" and depth == 0:
                break
            j += 1
        body = with_str[start:j + 1]
        strings = " ".join(re.findall(r'"((?:[^"\\]|\\.)*)"', body))
        if _PORT_INSN_RE.search(strings):
            port = _port_named(body)
            say(m.start(), f"inline assembly does port I/O ({_PORT_INSN_RE.search(strings).group(0)})"
                           + (f" on {port}" if port else "") + "; student code may not touch I/O ports")
        if _ASM_DIRECTIVE_RE.search(strings):
            say(m.start(), f"inline assembly uses the directive {_ASM_DIRECTIVE_RE.search(strings).group(0)}, "
                           f"which is not allowed in student files")
    depth = _depths(code)
    for m in _FUNC_DEF_RE.finditer(code):
        name = m.group(1)
        if depth[m.start()] == 0 and name in funcs and \
                not re.search(r"\b(if|while|for|switch|return)\s*\($|[=(,]\s*$",
                              code[code.rfind("\n", 0, m.start()) + 1:m.start()]):
            say(m.start(), f"defines {name}, which the framework already defines (do not redefine "
                           f"framework functions)")
    offset = 0
    for no, line in enumerate(code.split("\n"), 1):
        m = _VAR_DEF_RE.match(line)
        top = depth[offset] == 0
        offset += len(line) + 1
        if top and m and m.group(1) in funcs and not line.lstrip().startswith("#"):
            problems.append(f"{rel}:{no}: defines {m.group(1)}, which the framework already defines")
    return problems


def _port_named(text: str) -> str | None:
    for m in _NUM_RE.finditer(text):
        try:
            v = int(m.group(1), 0)
        except ValueError:
            continue
        if v in PORTS:
            return PORTS[v]
    return None


def check_files(root: str, files: dict[str, str]) -> list[str]:
    """Check student files. files maps the path in the tree (labs/NN-name/file.c) to the path
    of the file to read (the submission's copy). Returns every problem found."""
    root = os.path.abspath(root)
    funcs, macros = framework_symbols(root, set(files))
    problems: list[str] = []
    for rel in sorted(files):
        lab_dir = "/".join(rel.split("/")[:2])
        try:
            with open(files[rel], "rb") as f:
                data = f.read()
        except OSError as e:
            problems.append(f"{rel}:1: cannot read: {e.strerror or e}")
            continue
        text = data.decode("utf-8", errors="replace")
        problems += check_text(text, rel, root, lab_dir, funcs, macros)
    return problems


def student_files(root: str) -> dict[str, str]:
    """Every student file of the tree: labs/NN-name/file -> its path."""
    from grader.handin import student_paths
    return {rel: os.path.join(root, rel) for rel in student_paths(root)}


def main(argv: list[str]) -> int:
    """python3 -m grader.staticcheck [ROOT]: check the student files of a tree."""
    root = os.path.abspath(argv[0] if argv else ".")
    problems = check_files(root, student_files(root))
    for p in problems:
        print(p)
    print(f"ntlab: static check: {len(problems)} problem(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
