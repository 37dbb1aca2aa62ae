"""compare_by_group: a two-setting comparison read per arm and task group, on a frame computed by hand."""

import pandas as pd
import pytest

from mathxfer.analysis.seeds import compare_by_group


def test_each_groups_two_settings_sit_side_by_side_as_means_over_tasks_then_seeds():
    rows = [  # arm, seed, task, group, value under a, value under b
        ("sft", 0, "add", "math", 1.0, 2.0), ("sft", 0, "sub", "math", 3.0, 4.0), ("sft", 0, "fact", "non", 5.0, 1.0),
        ("sft", 1, "add", "math", 5.0, 6.0), ("sft", 1, "sub", "math", 7.0, 8.0), ("sft", 1, "fact", "non", 7.0, 3.0),
        ("rl", 0, "add", "math", 0.5, 0.5), ("rl", 0, "sub", "math", 0.5, 1.5), ("rl", 0, "fact", "non", 0.0, 0.2),
    ]
    frame = pd.DataFrame([{"model": f"{a} s{s}", "benchmark": t, "arm": a, "seed": s, "group": g,
                           "kind": "RL" if a == "rl" else "SFT", "d_star_official": x, "d_star_paper": y}
                          for a, s, t, g, x, y in rows])
    table = compare_by_group(frame, ["d_star_official", "d_star_paper"]).set_index("arm")
    assert list(table.columns) == ["kind", "n_seeds", "math: official", "math: paper", "non: official", "non: paper"]
    # sft math under official: seed 0 mean(1, 3) = 2, seed 1 mean(5, 7) = 6, then over seeds 4
    assert table.loc["sft", "math: official"] == pytest.approx(4.0)
    assert table.loc["sft", "math: paper"] == pytest.approx(5.0)
    assert table.loc["sft", "non: paper"] == pytest.approx(2.0)
    assert table.loc["rl", "math: paper"] == pytest.approx(1.0) and table.loc["rl", "n_seeds"] == 1
    assert list(table.index) == ["sft", "rl"]  # the frame's arm order, not alphabetical
