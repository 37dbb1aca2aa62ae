#!/usr/bin/env bash
# The smol profile's GPU check, on the GPU host, once both parts of benchmarks/gpu_smol_pack.sh are there
# (.gpu/part1 carried by one `run` call, .gpu/part2 by the next; benchmarks/README.md, "GPU check (smol)"):
#
#   bash benchmarks/gpu_smol.sh
#
# Checks both parts, reassembles the GGUF (its sha256 against the packer's), installs the wheels into a venv
# that sees the host's own packages (torch 2.11, transformers 5.17), unpacks the benchmark copies, checks that
# everything the study imports imports, then runs the smol study's gpu budget for one seed into a fresh results
# store and prints benchmarks/gpu_smol_report.py's report. The whole script keeps within GPU_SMOL_BUDGET_S
# (480 s). What comes back is written to $OUT (the host's output folder; else $GPU_SMOL_WORK/out): study.log,
# report.txt, record.json, results.tar.gz (the store without weights), gpu.csv (nvidia-smi every 5 s).
#
#   GPU_SMOL_DRY=1     stop after the setup, the import check and the study's --dry-run (no GPU needed)
#   GPU_SMOL_PYTHON    the host interpreter the venv is made from (default python3)
#   GPU_SMOL_WORK      the scratch folder, emptied first (default /tmp/gpu_smol)
#   GPU_SMOL_ARGS      more arguments for the study command, e.g. '--arm grpo --set evaluation.limit=20'
set -euo pipefail
T0=$SECONDS
BUDGET_S=${GPU_SMOL_BUDGET_S:-480}
REPORT_S=40                                   # kept back for the report and the copies after the study
cd "$(dirname "$0")/.."
REPO=$PWD
P1=$REPO/.gpu/part1 P2=$REPO/.gpu/part2
HOST_PY=${GPU_SMOL_PYTHON:-python3}
WORK=${GPU_SMOL_WORK:-/tmp/gpu_smol}
OUT_DIR=${OUT:-$WORK/out}

die() { echo "gpu_smol: FAIL: $*" >&2; exit 2; }
say() { echo "gpu_smol [$((SECONDS - T0)) s]: $*"; }
field() { sed -n "s/^$2=//p" "$1/MANIFEST"; }
untar() {  # tar.xz into $WORK: tar with xz, else Python's tarfile
    tar -C "$WORK" -xJf "$1" 2>/dev/null \
        || "$HOST_PY" -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' "$1" "$WORK"
}
store_tar() {  # the results store without weights, checkpoints or hidden-state caches, plus excludes "$@"
    tar -C "$WORK" -czf "$OUT_DIR/results.tar.gz" --exclude='*.safetensors' --exclude='*.bin' --exclude='*.pt' \
        --exclude='*.pth' --exclude='checkpoint-*' --exclude='results/hidden' --exclude='results/umap' "$@" \
        results 2>/dev/null || true
}

# --- the two parts -----------------------------------------------------------------------------------------
for part in "$P1" "$P2"; do
    [[ -f $part/MANIFEST ]] || die "$part/MANIFEST is missing: carry .gpu/part1 in one call and .gpu/part2" \
        "in the next, back to back (benchmarks/README.md)"
    (cd "$part" && sed -n 's/^file=//p' MANIFEST | sha256sum --check --quiet) \
        || die "$part does not match its MANIFEST (rerun gpu_smol_pack.sh here, carry both again)"
done
sha=$(field "$P1" gguf_sha256)
[[ $sha == "$(field "$P2" gguf_sha256)" ]] \
    || die "part1 and part2 come from different packs (their MANIFESTs differ): carry both again"
name=$(field "$P1" gguf_name)
say "both parts are here and whole (packed $(field "$P1" packed) at git $(field "$P1" git_sha | cut -c1-12))"

rm -rf "$WORK"
mkdir -p "$WORK/model" "$OUT_DIR"
cat "$P1/gguf.0" "$P2/gguf.1" > "$WORK/model/$name"
echo "$sha  $WORK/model/$name" | sha256sum --check --quiet \
    || die "the reassembled $name does not have the packer's sha256 $sha"
say "reassembled $name ($(stat -c %s "$WORK/model/$name") bytes), sha256 verified"

# --- a venv over the host's packages, with the wheels ------------------------------------------------------
# The venv sees exactly what the host interpreter sees, behind the wheels. A host interpreter that is a plain
# Python: --system-site-packages. One that is itself a venv (/opt/torch/.venv there): --system-site-packages
# would give its base Python's folders, not its own, so the venv gets the host interpreter's site folders, in
# its order, through a .pth file instead.
if "$HOST_PY" -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
    "$HOST_PY" -m venv --without-pip "$WORK/venv"
    VPY=$WORK/venv/bin/python
    venv_site=$("$VPY" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')
    "$HOST_PY" -c 'import sys
for p in sys.path:
    if p.endswith(("site-packages", "dist-packages")):
        print(f"import site; site.addsitedir({p!r})")' > "$venv_site/_gpu_smol_host.pth"
else
    "$HOST_PY" -m venv --system-site-packages --without-pip "$WORK/venv"
    VPY=$WORK/venv/bin/python
fi
untar "$P1/wheels.tar.xz"
# --ignore-installed: our exact versions go into the venv even where an outer folder has the package; the
# venv has no pip of its own (--without-pip), the host's runs and installs into the venv.
env -u PIP_FIND_LINKS -u PIP_CONSTRAINT -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL PIP_CONFIG_FILE=/dev/null \
    "$VPY" -m pip install --quiet --no-deps --no-index \
    --ignore-installed --no-compile --disable-pip-version-check --no-cache-dir --find-links "$WORK/wheels" \
    -r "$WORK/wheels/requirements.txt" || die "pip could not install the wheels"
say "installed into $WORK/venv: $(tr '\n' ' ' < "$WORK/wheels/requirements.txt")"

data_folder=$(field "$P2" data_folder)
untar "$P2/benchmarks.tar.xz"
[[ -d $WORK/$data_folder/gsm8k ]] || die "the benchmark copies did not unpack into $WORK/$data_folder"
say "benchmark copies in $WORK/$data_folder ($(ls "$WORK/$data_folder" | tr '\n' ' '))"

# --- the environment the study runs in ---------------------------------------------------------------------
export PYTHONPATH=$REPO${PYTHONPATH:+:$PYTHONPATH}    # mathxfer is this working tree
export MATHXFER_RESULTS=$WORK/results                 # fresh: $WORK was emptied above
export MATHXFER_DATA_DIR=$WORK/$data_folder
export MATHXFER_NLTK_DATA=$WORK/nltk_data
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-8} MKL_NUM_THREADS=${MKL_NUM_THREADS:-8}
export HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_HUB_DISABLE_TELEMETRY=1
export TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1 HF_HOME=$WORK/hf

# Everything the study imports, from where it should come (a missing module fails here, in seconds, not mid-study).
"$VPY" - "$WORK" <<'EOF' || die "the import check failed (above): a package is missing from the wheels or the host"
import sys
import torch, transformers, trl, datasets, gguf, math_verify  # noqa: E401
from trl import GRPOTrainer, SFTTrainer  # noqa: F401
import mathxfer.cli, mathxfer.study.run, mathxfer.study.analyses, mathxfer.train.run, mathxfer.eval.runner  # noqa
from mathxfer.eval.ifeval import checkers
from math_verify import parse, verify
checkers()
assert verify(parse("$\\frac{1}{2}$"), parse("0.5")), "math-verify does not grade"
work = sys.argv[1]
for module in (trl, datasets, gguf, math_verify):
    assert module.__file__.startswith(work), f"{module.__name__} comes from {module.__file__}, not the venv"
cuda = torch.cuda.is_available()
print(f"python {sys.version.split()[0]} | torch {torch.__version__} ({torch.__file__.rsplit('/', 2)[0]}) | "
      f"transformers {transformers.__version__} | trl {trl.__version__} | datasets {datasets.__version__} | "
      f"mathxfer from {mathxfer.cli.__file__.rsplit('/', 2)[0]} | "
      f"GPU: {torch.cuda.get_device_name(0) if cuda else 'none'}")
EOF
say "import check passed"
# The gpu budget for one seed, but generation through transformers (the host has no vLLM) on the first 100 items
# of each benchmark at 512 new tokens: every item at 1,024 tokens takes HF generate far past 8 minutes.
cmd=("$VPY" -m mathxfer study --profile smol --set budget=gpu --set 'seeds=[0]' --set "base_model=$WORK/model"
     --set "gguf_file=$name" --set evaluation.backend=transformers --set evaluation.batch_size=128
     --set evaluation.limit=100 --set evaluation.max_new_tokens=512)
read -r -a extra <<< "${GPU_SMOL_ARGS:-}"      # more study arguments, split on blanks (e.g. --arm A --set K=V)
cmd+=(${extra[@]+"${extra[@]}"})
if [[ ${GPU_SMOL_DRY:-0} == 1 ]]; then
    "${cmd[@]}" --dry-run > "$OUT_DIR/dry-run.txt" 2>&1 || { cat "$OUT_DIR/dry-run.txt"; die "the study's --dry-run failed"; }
    say "the study's plan (--dry-run, trains nothing): $(head -n 1 "$OUT_DIR/dry-run.txt")"
    say "GPU_SMOL_DRY=1: setup done, stopping before the study (venv $WORK/venv, data $MATHXFER_DATA_DIR)"
    exit 0
fi
"$VPY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' || die "torch sees no GPU here"

# --- the study, under what is left of the budget -------------------------------------------------------------
left=$(( BUDGET_S - (SECONDS - T0) - REPORT_S ))
(( left > 60 )) || die "only $left s left for the study after the setup"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used,memory.total --format=csv,noheader,nounits -l 5 \
    > "$OUT_DIR/gpu.csv" 2>/dev/null &
smi=$!
say "running (timeout ${left} s): ${cmd[*]:1}"
study_t0=$SECONDS
set +e
timeout --kill-after=10 "$left" "${cmd[@]}" 2>&1 | tee "$OUT_DIR/study.log"
rc=${PIPESTATUS[0]}
set -e
kill "$smi" 2>/dev/null || true
say "study exited $rc after $((SECONDS - study_t0)) s$([[ $rc == 124 || $rc == 137 ]] && echo " (timed out)")"
if [[ $rc != 0 ]]; then  # the workers' own output (trainer, evaluation, analysis) is in the store's logs/
    for log in "$MATHXFER_RESULTS"/logs/*.log; do
        [[ -f $log ]] && { echo "--- last lines of $(basename "$log")"; tail -n 12 "$log"; }
    done
fi

# --- what comes back -------------------------------------------------------------------------------------------
record=$(ls "$MATHXFER_RESULTS"/study/*/study.json 2>/dev/null | head -n 1) || true
if [[ -n $record ]]; then
    cp "$record" "$OUT_DIR/record.json"
    "$VPY" benchmarks/gpu_smol_report.py "$record" 2>&1 | tee "$OUT_DIR/report.txt" || true
else
    echo "no study record (the study did not finish): the training runs found in the store" | tee "$OUT_DIR/report.txt"
    "$VPY" benchmarks/gpu_smol_report.py "$MATHXFER_RESULTS" 2>&1 | tee -a "$OUT_DIR/report.txt" || true
fi
if [[ -s $OUT_DIR/gpu.csv ]]; then
    awk -F', ' '{ n++; u += $2; if ($3 > m) m = $3; t = $4 } END { if (n) printf "GPU (nvidia-smi every 5 s, " \
        "%d samples): mean utilization %.0f%%, peak memory %d of %d MiB\n", n, u / n, m, t }' "$OUT_DIR/gpu.csv" \
        | tee -a "$OUT_DIR/report.txt"
fi
# The store (record, metrics, logs, evaluation records) comes back whole; a file over 15 MiB drops the records.
store_tar
if [[ -f $OUT_DIR/results.tar.gz ]] && (( $(stat -c %s "$OUT_DIR/results.tar.gz") > 15 * 1048576 )); then
    store_tar --exclude='records'
fi
say "done in $((SECONDS - T0)) s; in $OUT_DIR: $(ls "$OUT_DIR" | tr '\n' ' ')"
exit "$rc"
