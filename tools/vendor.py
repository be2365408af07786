#!/usr/bin/env python
"""Refresh static/vendor/ from the npm registry: the nudity shield's TensorFlow.js and NSFWJS model,
and the ALTCHA solver worker that answers the anti-bot proof of work.

    make vendor          # or: python tools/vendor.py

The packages are installed at the pinned versions below into a temporary directory (npm, no
install scripts), and only the files the browser loads are copied, each package into
static/vendor/<name>-<version>/ with its licence. Nothing is fetched at run time: the site and
the tests use the committed copies.

Two files are transformed rather than copied:
- NSFWJS ships its model as JavaScript wrappers (model.min.js holds the Keras topology and weight
  manifest, group1-shard1of1.min.js the weights in base64). They are unwrapped with node into the
  plain TensorFlow.js layout (model.json and a binary shard), which the browser caches as is and
  needs no eval or base64 decoding for.
- `//# sourceMappingURL=` comments are dropped: the maps are not vendored, and a hashing static
  storage (ManifestStaticFilesStorage) refuses to collect a file that names a missing map.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "static" / "vendor"

TFJS_VERSION = "4.22.0"
NSFWJS_VERSION = "4.4.0"
ALTCHA_VERSION = "2.3.0"

# package -> (version, vendor directory name, files to copy from the package)
PACKAGES: dict[str, tuple[str, str, list[str]]] = {
    "@tensorflow/tfjs-core": (TFJS_VERSION, "tfjs-core", ["dist/tf-core.min.js"]),
    "@tensorflow/tfjs-layers": (TFJS_VERSION, "tfjs-layers", ["dist/tf-layers.min.js"]),
    "@tensorflow/tfjs-backend-wasm": (
        TFJS_VERSION,
        "tfjs-backend-wasm",
        # The threaded build needs cross-origin isolation, which the site does not enable.
        ["dist/tf-backend-wasm.min.js", "dist/tfjs-backend-wasm.wasm", "dist/tfjs-backend-wasm-simd.wasm"],
    ),
    "nsfwjs": (NSFWJS_VERSION, "nsfwjs", []),
    # Only the solver (the package's `altcha/worker` export): the page has its own rules dialog and
    # hands the solution to the signaling socket, so the widget itself is not needed.
    "altcha": (ALTCHA_VERSION, "altcha", ["dist_external/worker.js"]),
}
NSFWJS_MODEL = "mobilenet_v2"

# Reads NSFWJS's wrapped model files and prints {"model": <model.json>, "weights": <base64>}.
UNWRAP_MODEL_JS = """
const dir = process.argv[1];
const unwrap = (m) => (m && m.default) || m;
const model = unwrap(require(dir + "/model.min.js"));
const weights = unwrap(require(dir + "/group1-shard1of1.min.js"));
process.stdout.write(JSON.stringify({ model, weights }));
"""
SOURCE_MAP_COMMENT = re.compile(rb"\n?//# sourceMappingURL=\S+\s*$")


def run(command: list[str], cwd: Path) -> str:
    # The commands are fixed lists built in this file (npm and node with pinned arguments).
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{result.stderr.strip()}")
    return result.stdout


def copy_script(source: Path, target: Path) -> None:
    data = source.read_bytes()
    if source.suffix == ".js":
        data = SOURCE_MAP_COMMENT.sub(b"\n", data)
    target.write_bytes(data)


def write_licence(package_dir: Path, target_dir: Path) -> None:
    for name in ("LICENSE", "LICENSE.md", "LICENSE.txt"):
        if (package_dir / name).exists():
            shutil.copyfile(package_dir / name, target_dir / "LICENSE")
            return
    # The TensorFlow.js packages carry no licence file, only the field and a header in every bundle.
    meta = json.loads((package_dir / "package.json").read_text())
    (target_dir / "LICENSE").write_text(
        f"{meta['name']} {meta['version']} is licensed under {meta['license']}.\n"
        "Each file keeps its @license header; the full text is at https://www.apache.org/licenses/LICENSE-2.0\n"
    )


def unwrap_model(package_dir: Path, target_dir: Path) -> None:
    source = package_dir / "dist" / "models" / NSFWJS_MODEL
    unwrapped = json.loads(run(["node", "-e", UNWRAP_MODEL_JS, str(source)], cwd=source))
    model = unwrapped["model"]
    weights = base64.b64decode(unwrapped["weights"], validate=True)
    [group] = model["weightsManifest"]
    expected = sum(_weight_bytes(spec) for spec in group["weights"])
    if len(weights) != expected:
        sys.exit(f"NSFWJS weights are {len(weights)} bytes, the manifest describes {expected}")
    group["paths"] = ["group1-shard1of1.bin"]
    model_dir = target_dir / NSFWJS_MODEL
    model_dir.mkdir()
    (model_dir / "model.json").write_text(json.dumps(model, separators=(",", ":")))
    (model_dir / "group1-shard1of1.bin").write_bytes(weights)


def _weight_bytes(spec: dict) -> int:
    count = 1
    for size in spec["shape"]:
        count *= size
    dtype = spec.get("quantization", {}).get("dtype", spec["dtype"])
    return count * {"uint8": 1, "int8": 1, "uint16": 2, "float16": 2, "float32": 4, "int32": 4}[dtype]


def main() -> None:
    if not shutil.which("npm") or not shutil.which("node"):
        sys.exit("make vendor needs node and npm (Debian packages nodejs and npm)")
    with tempfile.TemporaryDirectory(prefix="alienmeet-vendor-") as temp:
        workdir = Path(temp)
        (workdir / "package.json").write_text('{"private": true}\n')
        specs = [f"{name}@{version}" for name, (version, _, _) in PACKAGES.items()]
        run(["npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--no-save", *specs], cwd=workdir)
        shutil.rmtree(VENDOR, ignore_errors=True)
        VENDOR.mkdir(parents=True)
        for name, (version, directory, files) in PACKAGES.items():
            package_dir = workdir / "node_modules" / name
            installed = json.loads((package_dir / "package.json").read_text())["version"]
            if installed != version:
                sys.exit(f"npm installed {name} {installed}, expected {version}")
            target_dir = VENDOR / f"{directory}-{version}"
            target_dir.mkdir()
            for file in files:
                copy_script(package_dir / file, target_dir / Path(file).name)
            if name == "nsfwjs":
                unwrap_model(package_dir, target_dir)
            write_licence(package_dir, target_dir)
    total = sum(path.stat().st_size for path in VENDOR.rglob("*") if path.is_file())
    for path in sorted(VENDOR.rglob("*")):
        if path.is_file():
            print(f"{path.stat().st_size:>10,}  {path.relative_to(ROOT)}")
    print(f"{total:>10,}  total")


if __name__ == "__main__":
    main()
