"""``mathxfer study --emit-slurm``: the paper profile's SLURM scripts, written and checked on this CPU machine.

Every script passes ``bash -n`` and names the ZeRO-3 config and its recipe; run against stand-ins for ``srun``,
``scontrol``, ``sbatch``, ``accelerate`` and ``python`` (tiny scripts that record their arguments), a 2-node
run script starts one ``accelerate launch`` per node with that node's rank and exactly the study's train
command, ``submit_all.sh`` chains the record step after every run, and the record step refuses to start while
a run is unfinished. A profile without a launcher is refused."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

import pytest
import yaml

from mathxfer.cli import main
from mathxfer.study import read_study
from mathxfer.study.plan import launcher_options, plan_study, study_key
from mathxfer.study.slurm import RECORD_SCRIPT, STUDY_COPY, SUBMIT_SCRIPT

ZERO3 = "recipes/paper/accelerate/zero3.yaml"
STAND_INS = {  # name -> body; each records its arguments (one per line) into $CALLS/<name>.<n>
    "srun": 'while [[ "$1" == --* ]]; do shift; done\n'  # srun's own options
            'for rank in $(seq 0 $((SLURM_NNODES - 1))); do SLURM_PROCID=$rank "$@"; done',
    "scontrol": 'printf "node-a\\nnode-b\\n"',
    "sbatch": '[ -z "${REFUSE:-}" ] || exit 1; ls "$CALLS" | grep -c "^sbatch"',  # job ids 1, 2, ...
    "accelerate": "",
    "python": "",
}


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory):
    """The paper study emitted for 2 nodes, with its spec."""
    root = tmp_path_factory.mktemp("slurm")
    folder = root / "slurm"
    with pytest.MonkeyPatch.context() as mp:  # --results sets the store for this process: undone after
        mp.setenv("MATHXFER_RESULTS", str(root / "unused"))
        assert main(["study", "--profile", "paper", "--set", "launcher.num_machines=2", "--results",
                     str(root / "results"), "--emit-slurm", str(folder)]) == 0
        assert f"MATHXFER_RESULTS=${{MATHXFER_RESULTS:-{root / 'results'}}}" in (folder / RECORD_SCRIPT).read_text()
    spec = read_study(profile="paper", overrides={"launcher.num_machines": 2})
    return folder, spec, root


@pytest.fixture()
def stand_ins(tmp_path):
    """A folder of stand-in commands, and the environment that puts them first on PATH."""
    bin_dir, calls = tmp_path / "env" / "bin", tmp_path / "calls"
    bin_dir.mkdir(parents=True)
    calls.mkdir()
    for name, body in STAND_INS.items():
        record = f'n=$(ls "$CALLS" | grep -c "^{name}\\." || true); printf "%s\\n" "$@" > "$CALLS/{name}.$n"\n'
        (bin_dir / name).write_text(f"#!/bin/bash\n{record}{body}\n")
        (bin_dir / name).chmod(0o755)
    (bin_dir / "activate").write_text(f'export PATH="{bin_dir}:$PATH"\n')
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "CALLS": str(calls), "MATHXFER_ENV": str(tmp_path / "env"), "SLURM_JOB_NAME": "job",
           "SLURM_JOB_NODELIST": "node-[a-b]", "SLURM_NNODES": "2", "MATHXFER_RESULTS": str(tmp_path / "store")}
    return env, calls


def calls_of(calls: Path, name: str) -> list[list[str]]:
    return [p.read_text().splitlines() for p in sorted(calls.glob(f"{name}.*"), key=lambda p: int(p.suffix[1:]))]


def test_every_script_parses_and_names_zero3_and_its_recipe(two_nodes):
    folder, spec, _ = two_nodes
    runs = plan_study(spec)
    scripts = sorted(folder.glob("*.slurm"))
    assert len(scripts) == len(runs) + 1  # one per run and the record step
    for script in [*scripts, folder / SUBMIT_SCRIPT]:
        done = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert done.returncode == 0, f"{script.name}: {done.stderr}"
    for run in runs:
        text = (folder / f"{run.job_name('paper')}.slurm").read_text()
        assert ZERO3 in text and f"recipes/paper/{run.arm}.yaml" in text and study_key(spec, runs) in text
        header = [line for line in text.splitlines() if line.startswith("#SBATCH")]
        assert {"#SBATCH --nodes=2", "#SBATCH --gpus-per-node=8", "#SBATCH --exclusive",
                f"#SBATCH --job-name=mathxfer-{run.job_name('paper')}",
                f"#SBATCH --output={folder}/logs/%x-%j.out"} <= set(header)
        assert "#   " + yaml.safe_dump({"learning_rate": run.fields["learning_rate"]}).strip() in text
        assert ("vllm_mode: colocate" in text and "vLLM colocated" in text) == (run.method == "grpo")
    assert read_study(folder / STUDY_COPY) == spec  # the record step plans exactly these runs


def test_a_run_script_launches_one_accelerate_per_node_with_the_study_command(two_nodes, stand_ins):
    folder, spec, root = two_nodes
    env, calls = stand_ins
    run = next(r for r in plan_study(spec) if r.method == "grpo")
    done = subprocess.run(["bash", str(folder / f"{run.job_name('paper')}.slurm")], env=env, capture_output=True,
                          text=True, cwd=root)
    assert done.returncode == 0, done.stderr
    assert f"{env['MATHXFER_RESULTS']}/train/paper/{run.output_dir.name}" in done.stdout
    launches = calls_of(calls, "accelerate")
    options = launcher_options(spec) + ["--main_process_ip", "node-a", "--main_process_port", "29500"]
    assert launches == [["launch", "--machine_rank", str(rank), *options, *run.train_command("paper")]
                        for rank in (0, 1)]
    assert "--num_processes" in options and options[options.index("--num_processes") + 1] == "16"


def test_submit_all_runs_the_record_step_after_every_run(two_nodes, stand_ins):
    folder, spec, _ = two_nodes
    env, calls = stand_ins
    done = subprocess.run(["bash", str(folder / SUBMIT_SCRIPT)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    submitted = calls_of(calls, "sbatch")
    runs = plan_study(spec)
    assert [c[-1] for c in submitted] == [f"{r.job_name('paper')}.slurm" for r in runs] + [RECORD_SCRIPT]
    ids = ":".join(str(i) for i in range(1, len(runs) + 1))
    assert submitted[-1] == ["--parsable", f"--dependency=afterok:{ids}", RECORD_SCRIPT]
    for call in calls.iterdir():
        call.unlink()
    refused = subprocess.run(["bash", str(folder / SUBMIT_SCRIPT)], env={**env, "REFUSE": "1"}, capture_output=True,
                             text=True)
    assert refused.returncode != 0 and len(calls_of(calls, "sbatch")) == 1  # the first refusal stops it


def test_the_record_step_waits_for_every_run_then_writes_the_record(two_nodes, stand_ins):
    folder, spec, _ = two_nodes
    env, calls = stand_ins
    record = folder / RECORD_SCRIPT
    runs = plan_study(spec)
    store = Path(env["MATHXFER_RESULTS"])
    for run in runs[:-1]:
        (store / "train" / "paper" / run.output_dir.name).mkdir(parents=True)
        (store / "train" / "paper" / run.output_dir.name / "run.json").write_text("{}")
    done = subprocess.run(["bash", str(record)], env=env, capture_output=True, text=True)
    assert done.returncode == 1 and f"not finished: {store}/train/paper/{runs[-1].output_dir.name}" in done.stderr
    assert not calls_of(calls, "python")
    (store / "train" / "paper" / runs[-1].output_dir.name).mkdir(parents=True)
    (store / "train" / "paper" / runs[-1].output_dir.name / "run.json").write_text("{}")
    done = subprocess.run(["bash", str(record)], env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert calls_of(calls, "python") == [["-m", "mathxfer", "study", "--study", str(folder / STUDY_COPY),
                                          "--results", str(store)]]
    assert f"{store}/study/{study_key(spec, runs)}/study.json" in done.stdout


def test_dry_run_and_emit_work_here_and_bad_folders_are_refused(tmp_path, capsys):
    assert main(["study", "--profile", "paper", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert out.count("accelerate launch --config_file " + ZERO3) == len(plan_study(read_study(profile="paper")))
    assert main(["study", "--profile", "micro", "--emit-slurm", str(tmp_path / "s")]) == 2
    err = capsys.readouterr().err
    assert "--emit-slurm: the micro study" in err and "has no launcher section" in err
    assert not (tmp_path / "s").exists()
    (tmp_path / "a-file").write_text("")
    assert main(["study", "--profile", "paper", "--results", str(tmp_path / "a-file"), "--dry-run"]) == 2
    assert "is a file, not a folder; give the results folder" in capsys.readouterr().err


def test_the_train_command_survives_bash_quoting(two_nodes):
    """The TRAIN array, read back by bash, is the study's train command word for word (quotes included)."""
    folder, spec, _ = two_nodes
    for run in plan_study(spec):
        script = (folder / f"{run.job_name('paper')}.slurm").read_text()
        [line] = [x for x in script.splitlines() if x.startswith("TRAIN=(")]
        words = subprocess.run(["bash", "-c", f'{line}; printf "%s\\n" "${{TRAIN[@]}}"'], capture_output=True,
                               text=True, check=True).stdout.splitlines()
        assert words == run.train_command("paper") and shlex.join(words) in script
