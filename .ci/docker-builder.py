#!/usr/bin/env python3
"""Runs the builder stage of the Dockerfile without Docker (no engine runs here): in a scratch
folder that stands for the stage's WORKDIR, each COPY brings exactly what it names from the
repository, and each RUN runs as written, in order, except that `cargo build --release` becomes
`cargo check` (what can drift is which files cargo finds, not the compiler's output). A stage
whose commands need a file its COPY lines do not bring fails here as it would in `docker build`.

Usage: docker-builder.py DOCKERFILE TARGET_DIR
"""

import os
import shlex
import shutil
import subprocess
import sys
import tempfile


def instructions(path):
    """(instruction, argument text) pairs of the Dockerfile, continuation lines joined."""
    out, current = [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            stripped = line.rstrip("\n")
            if not current and (not stripped.strip() or stripped.lstrip().startswith("#")):
                continue
            if current and stripped.lstrip().startswith("#"):
                continue
            if stripped.endswith("\\"):
                current += stripped[:-1] + " "
                continue
            current += stripped
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            current = ""
    return out


def builder_stages(steps):
    """The instructions of each stage that is not the last one (the stages that build)."""
    stages, current = [], None
    for word, rest in steps:
        if word == "FROM":
            current = (rest, [])
            stages.append(current)
        elif current is not None:
            current[1].append((word, rest))
    return stages[:-1]


def copy(rest, repo, workdir):
    parts = shlex.split(rest)
    if any(p.startswith("--from") for p in parts):
        return
    parts = [p for p in parts if not p.startswith("--")]
    sources, dest = parts[:-1], parts[-1]
    target = os.path.join(workdir, dest)
    for source in sources:
        origin = os.path.join(repo, source)
        if os.path.isdir(origin):
            shutil.copytree(origin, os.path.join(target, os.path.basename(source.rstrip("/")))
                            if dest.endswith("/") and dest not in ("./", ".") else target,
                            dirs_exist_ok=True)
        else:
            os.makedirs(target if dest.endswith("/") else os.path.dirname(target), exist_ok=True)
            shutil.copy2(origin, target)


def main():
    dockerfile, target_dir = sys.argv[1], sys.argv[2]
    repo = os.path.dirname(os.path.abspath(dockerfile))
    env = dict(os.environ, CARGO_TARGET_DIR=os.path.abspath(target_dir))
    for name, steps in builder_stages(instructions(dockerfile)):
        with tempfile.TemporaryDirectory() as root:
            workdir = root
            print(f"stage {name}")
            for word, rest in steps:
                if word == "WORKDIR":
                    workdir = os.path.join(root, rest.lstrip("/"))
                    os.makedirs(workdir, exist_ok=True)
                elif word == "COPY":
                    print(f"  COPY {rest}")
                    copy(rest, repo, workdir)
                elif word == "RUN":
                    command = rest.replace("cargo build --release", "cargo check")
                    print(f"  RUN {command}")
                    done = subprocess.run(["bash", "-euo", "pipefail", "-c", command],
                                          cwd=workdir, env=env)
                    if done.returncode != 0:
                        print(f"the builder stage {name} fails at: RUN {rest}", file=sys.stderr)
                        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
