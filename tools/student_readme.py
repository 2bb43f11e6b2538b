"""The README.md and the GitHub Actions workflow of a student tree (written by tools/dist.py):
made from the labs' lab.toml and the course policy, so they say what that tree holds.

    readme(labs, policy, root) -> str          labs: grader.labconfig.Lab list (public checkpoints)
    workflow(labs, policy, root) -> str        .github/workflows/classroom.yml
"""
from __future__ import annotations

import os


def _sol(policy, lab: int, root: str) -> str:
    name = policy.sol_name(lab, root)
    return "" if name == "none" else f"SOL={name} "


def readme(labs, policy, root: str) -> str:
    from grader import selection
    released = selection.canonical(policy.released, root) if policy.released else "none"
    rows = []
    for lab in labs:
        points = sum(cp.points for cp in lab.checkpoints)
        handout = f"handouts/{lab.folder}.md"
        have = os.path.isfile(os.path.join(root, handout))
        rows.append(f"| {lab.number:02d} | {lab.title} | `labs/{lab.folder}/` ({', '.join(lab.files)}) | "
                    f"{points} | {f'[{handout}]({handout})' if have else '-'} |")
    rel_lines = []
    if policy.released:
        rel_lines.append(f"Your instructor released the reference files of lab(s) {released}: they are in "
                         f"`solutions/NN-name/`. `SOL=` builds those labs from them instead of your files, "
                         f"so you can work on a later lab while an earlier one is unfinished:")
        rel_lines.append("")
        rel_lines.append("```sh")
        last = max(policy.released)
        later = [lab.number for lab in labs if lab.number > last] or [last]
        rel_lines.append(f"make grade SOL={released} LAB={later[0]}     # lab {later[0]:02d} on the released "
                         f"reference of lab(s) {released}")
        rel_lines.append("```")
    else:
        rel_lines.append("No lab's reference files are released in this tree: every lab builds on your own "
                         "earlier labs.")
    policy_lines = [f"- {policy.describe(lab.number, root)}." for lab in labs]
    first = labs[0].number if labs else 0
    grade_cmds = "\n".join(f"make grade {_sol(policy, lab.number, root)}LAB={lab.number}"
                           f"{' ' * max(1, 24 - len(_sol(policy, lab.number, root)) - len(str(lab.number)))}"
                           f"# lab {lab.number:02d} as the course grades it" for lab in labs)
    return f"""# ntlab - your lab tree

ntlab is an NT-style kernel for x86-64 that you complete lab by lab. The kernel boots
through GRUB in QEMU; `make grade` boots every checkpoint of a lab and judges what the
kernel prints on its serial port. This README was written for your tree by `make dist`.

## What you have

| lab | topic | your files | points | handout |
| --- | --- | --- | --- | --- |
{chr(10).join(rows)}

- `labs/NN-name/`: the files you edit (each function you write has a contract comment
  and a `/* LAB NN: ... */` stub), `lab.toml` (the checkpoints and their points) and
  `tests/` (the in-kernel tests the checkpoints run).
- `handouts/`: one handout per lab; `make handouts` also renders them as HTML in
  `build/handouts/index.html`, with the contracts taken from the source files.
- `kernel/` (the framework, by NT component), `grader/` (the grader), `course.toml` (the
  course policy below), `.github/workflows/classroom.yml` (grading on every push).
{"- `solutions/`: the released reference files (see below)." if policy.released else ""}

## Setting up

On Debian 12 or Ubuntu 22.04: `sudo make deps` installs the tools (QEMU, GRUB, NASM,
gcc, GDB, pytest); any other make target prints the exact `apt-get install` command if
something is missing.

## The workflow

Read the lab's handout first, then edit its files and grade:

```sh
make grade LAB={first}                     # grade one lab (every checkpoint, in parallel)
make grade LAB={first} CHECKPOINT=<name>   # one checkpoint (names: labs/NN-*/lab.toml)
make grade LAB={first} SEED=1234           # repeat a run exactly (every run prints its seed)
make qemu KTEST=<test>               # boot one test, raw serial output on your terminal
make qemu-gdb DEBUG=1 KTEST=<test>   # the same, stopped for GDB, built at -Og (locals visible);
                                     # it prints the `make gdb ...` command for a second terminal
```

A failing checkpoint says what was expected, what was seen (the serial lines around it,
the STOP code with its parameters decoded, the backtrace with file:line), and the two
commands that re-run it alone. A stubbed function reports itself as "not implemented":
the kernel still boots, so your earlier labs keep passing while you work on the next one.

## Released labs and the course policy

{chr(10).join(rel_lines)}

How each lab is graded when you hand it in (`course.toml`; `python3 -m grader.policy`
prints this):

{chr(10).join(policy_lines)}

To see the score the course will give, grade each lab the same way:

```sh
{grade_cmds}
```

## Handing in

```sh
make handin        # writes handin.tar.gz: your lab files and a MANIFEST
```

`make handin` packs exactly the files named in each `lab.toml`, warns for every lab that
still has stub markers, says what the course policy does when a lab builds on an
earlier lab that is still a stub, and records in the MANIFEST what you last graded each
lab with. Upload `handin.tar.gz` where your instructor says (Gradescope takes it as is).
If your course uses GitHub Classroom, every push runs `make grade` in GitHub Actions
(`.github/workflows/classroom.yml`) and reports your points on the commit.
"""


def workflow(labs, policy, root: str) -> str:
    """GitHub Classroom's autograding convention: one education/autograding-command-grader
    step per checkpoint (its points when `make grade` of that checkpoint passes), then
    education/autograding-grading-reporter, which reports the points."""
    steps = []
    runners = []
    env = []
    for lab in labs:
        sol = _sol(policy, lab.number, root)
        for cp in lab.checkpoints:
            sid = f"cp-{lab.number:02d}-{cp.name.replace('_', '-')}"
            runners.append(sid)
            env.append(f"        {sid.upper()}_RESULTS: \"${{{{steps.{sid}.outputs.result}}}}\"")
            steps.append(f"""    - name: {cp.id}
      id: {sid}
      uses: education/autograding-command-grader@v1
      with:
        test-name: "{cp.id}: {cp.title.replace(chr(92), chr(92) * 2).replace('"', "'")}"
        setup-command: ""
        command: make --no-print-directory grade {sol}LAB={lab.number} CHECKPOINT={cp.name} JOBS=1
        timeout: 5
        max-score: {cp.points}""")
    return f"""# Written by `make dist`: grades every push with `make grade`, one step per checkpoint, and
# reports the points (GitHub Classroom's autograding convention). Labs are graded as
# course.toml says (SOL= for labs graded on the released reference of earlier labs).
name: Autograding Tests
'on':
- push
- workflow_dispatch
- repository_dispatch
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-22.04
    if: github.actor != 'github-classroom[bot]'
    steps:
    - name: Checkout code
      uses: actions/checkout@v4
    - name: Install the tools
      run: sudo make deps
    - name: Build
      run: make --no-print-directory iso
{chr(10).join(steps)}
    - name: Autograding Reporter
      uses: education/autograding-grading-reporter@v1
      env:
{chr(10).join(env)}
      with:
        runners: {','.join(runners)}
"""
