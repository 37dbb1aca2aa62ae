"""The paper's claims as data, and each one's status per profile, computed from that profile's results.

``CLAIMS`` is the table: an id, the chapter that shows the evidence, the paper's statement and the figure or
table it rests on, and the function that checks it. A check reads one profile's results (``Results``) and
returns a ``Verdict``: a status and one line of evidence with the numbers it was decided on.

- ``reproduced``: the direction and every part of the statement hold in our numbers;
- ``differs``: the direction agrees, but a part or the size does not (the evidence says which);
- ``not reproduced``: the direction does not hold;
- ``not run``: the profile has no results the claim could be checked on (no study record, or an arm missing).

The survey claims read the paper's reported scores (Tables 9-11), the same in every profile; the others read
the profile's study record. "SFT" in the controlled, latent and token claims means the study's off-policy SFT
arms (fixed solutions: distilled think / no-think, or human-written), as in the paper's Table 1; on-policy SFT
(the paper's Table 4 ablation) is left out. Differences "beyond the spread" compare a mean over seeds with its
standard deviation over seeds, or for one seed of a benchmark study with twice the standard error of the gain
from the items evaluated (``mathxfer.controlled.report``, the controlled chapter's own test); a controlled claim
whose every deciding change is within the spread is ``unresolved``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from IPython.display import Markdown

from mathxfer.analysis.seeds import fmt, sft_rl_pairs
from mathxfer.book.chapters import PROFILES, check_profile
from mathxfer.controlled import report
from mathxfer.study.record import StudyRecord, StudyRecordMissing, load_record

Status = Literal["reproduced", "differs", "not reproduced", "unresolved", "not run"]

# status -> (symbol, background): the page shows the symbol and the word, the colour only repeats them
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "reproduced": ("✓", "#dafbe1"),
    "differs": ("≈", "#fff8c5"),
    "not reproduced": ("✗", "#ffebe9"),
    "unresolved": ("?", "#ddf4ff"),
    "not run": ("–", "#f6f8fa"),
}

# chapter -> its page (a sibling of the index page in _build/executed/<profile>/) and the link's text
PAGES: dict[str, tuple[str, str]] = {
    "survey": ("survey.html", "Survey"),
    "controlled": ("controlled.html", "Controlled experiment"),
    "latent": ("latent.html", "Latent space"),
    "tokens": ("tokens.html", "Token space"),
}


@dataclass(frozen=True)
class Verdict:
    status: Status
    evidence: str

    def cell(self) -> str:
        return f"{self.status}: {self.evidence}"


class NotRun(Exception):
    """A check cannot run on this profile's results; the message says what is missing."""


# ---- what the checks read ------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _survey() -> Any:
    from mathxfer.survey import load_survey

    return load_survey("reported")


class Results:
    """One profile's results, each part loaded on first use: the survey, the study record (None when there is
    none: ``missing`` says why), its group gains and its latent and token analyses (from the study's caches)."""

    def __init__(self, profile: str, study: str | Path | None = None, record: StudyRecord | None = None):
        check_profile(profile)
        self.profile, self.study = profile, study
        self.missing = ""
        if record is not None:  # a record already read (and verified or not) by the caller
            self.record = record

    @property
    def survey(self) -> Any:
        return _survey()

    @functools.cached_property
    def record(self) -> StudyRecord | None:
        try:
            return load_record(self.study, self.profile)
        except StudyRecordMissing as err:
            stale = "stale" in str(err)
            self.missing = (f"the {self.profile} study record is stale" if stale else
                            f"no {self.profile} study record") + f"; `{_study_command(self.profile, self.study)}` " \
                                                                 f"writes it"
            return None

    def need_record(self) -> StudyRecord:
        if self.record is None:
            raise NotRun(self.missing)
        return self.record

    @functools.cached_property
    def gains(self) -> pd.DataFrame:
        from mathxfer.controlled.tables import gains

        return gains(self.need_record(), "group")

    @functools.cached_property
    def latent(self) -> Any:
        from mathxfer.study import analyses

        return analyses.latent_for(self.need_record(), umap=False, compare_semantics=False)  # the main d* only

    @functools.cached_property
    def tokens(self) -> Any:
        from mathxfer.study import analyses

        return analyses.tokens_for(self.need_record())

    # ---- the arms the claims compare ----
    def rl_arms(self) -> list[str]:
        arms = report.rl_arms(self.need_record())
        if not arms:
            raise NotRun(f"the {self.profile} study has no RL arm")
        return arms

    def sft_arms(self) -> list[str]:
        """Off-policy SFT arms (method ``sft``: fixed solutions), in the study's order."""
        record = self.need_record()
        methods = {r.arm: r.recipe.get("method") for r in record.select("main")}
        arms = [a for a in record.arms if record.kind_of(a) == "SFT" and methods.get(a) == "sft"]
        if not arms:
            raise NotRun(f"the {self.profile} study has no off-policy SFT arm")
        return arms

    def analysed(self, kind: Literal["RL", "SFT"]) -> list[str]:
        """The models of ``kind`` the latent and token claims compare: the study's arms, or with
        ``analysis.pairs`` (which replace the runs in those analyses) the labels of its pairs of that kind."""
        pairs = self.need_record().spec.analysis.pairs
        if not pairs:
            return self.rl_arms() if kind == "RL" else self.sft_arms()
        labels = [p.label for p in pairs if p.kind == kind]
        if not labels:
            raise NotRun(f"the {self.profile} study's analysis.pairs has no {kind} pair")
        return labels

    def n_seeds(self) -> int:
        return len({r.seed for r in self.need_record().select("main")})


def _study_command(profile: str, study: str | Path | None) -> str:
    return f"mathxfer study --study {study}" if study is not None and not str(study).endswith(".json") \
        else f"mathxfer study --profile {profile}"


def _seeds(n: int) -> str:
    return f"{n} seed{'s' if n != 1 else ''}"


def _by_fraction(wins: int, total: int) -> Status:
    return "reproduced" if wins == total else "differs" if wins else "not reproduced"


# ---- the checks ----------------------------------------------------------------------------------------

def survey_rl_transfers(r: Results) -> Verdict:
    """Mean TI (pooled reading) of the RL-tuned against the SFT-tuned models, per group."""
    from mathxfer.survey.report import method_means

    means, by_group = method_means(r.survey.ti("pooled"))
    counts = by_group.min(axis=1)  # the models with a defined TI in both groups (all, on the reported scores)
    wins = [g for g, col in (("other", "TI_other"), ("non", "TI_non")) if means.at["RL", col] > means.at["SFT", col]]
    parts = "; ".join(f"{label} RL {means.at['RL', col]:+.1f} vs SFT {means.at['SFT', col]:+.1f}"
                      for label, col in (("other reasoning", "TI_other"), ("non-reasoning", "TI_non")))
    status = _by_fraction(len(wins), 2)
    lost = "" if status != "differs" else f"; RL is ahead only on {'other reasoning' if wins == ['other'] else 'non-reasoning'}"
    return Verdict(status, f"mean TI {parts} ({counts['RL']} RL, {counts['SFT']} SFT models; the paper's "
                           f"reported scores){lost}")


def survey_ti_recomputed(r: Results) -> Verdict:
    """The reported TIs recomputed from the reported scores (pooled reading, 1.5-point tolerance)."""
    from mathxfer.survey.compare import MATCH_TOLERANCE, compare_with_reported

    comparison = compare_with_reported(r.survey)
    ok = comparison["pooled_matches"]
    matched, total = int(ok.sum()), len(ok)
    status: Status = "reproduced" if matched == total else "differs" if 2 * matched >= total else "not reproduced"
    missed = ", ".join(comparison.loc[~ok, "model"])
    return Verdict(status, f"{matched} of {total} reported pairs within {MATCH_TOLERANCE} TI points (pooled reading)"
                           + (f"; not: {missed}" if missed else ""))


def _gain(r: Results, arm: str, group: str) -> pd.Series:
    return report.group_gain(r.gains, arm, group)


def _gains_text(r: Results, group: str, arms: Sequence[str]) -> str:
    return ", ".join(f"{arm} {report.mean_sd(_gain(r, arm, group))}" for arm in arms)


def _spread(r: Results, arm: str, group: str) -> float:
    return report.gain_spread(r.need_record(), r.gains, arm, group)


def _beyond(r: Results, arm: str, group: str) -> bool:
    """The arm's mean gain on ``group`` is larger in size than its spread."""
    return abs(_gain(r, arm, group).mean()) > _spread(r, arm, group)


def _apart(r: Results, a: str, b: str, group: str) -> bool:
    return report.gains_apart(r.need_record(), r.gains, a, b, group)


def _unresolved(r: Results, group: str, arms: Sequence[str], pairs: Sequence[tuple[str, str]]) -> bool:
    """No arm's change and no pair's difference on ``group`` is beyond the spread."""
    return not any(_beyond(r, a, group) for a in arms) and not any(_apart(r, a, b, group) for a, b in pairs)


def _within(evidence: str) -> Verdict:
    return Verdict("unresolved", evidence + "; every change is within the spread")


def controlled_sft_forgets(r: Results) -> Verdict:
    """Non-reasoning gains: every SFT arm loses beyond the spread, no RL arm does, RL is above SFT."""
    rl, sft = r.rl_arms(), r.sft_arms()
    ordered = [(a, b) for a in rl for b in sft if _gain(r, a, "non").mean() > _gain(r, b, "non").mean()]
    kept = [a for a in rl if not report.forgets(_gain(r, a, "non"), _spread(r, a, "non"))]
    forgot = [b for b in sft if report.forgets(_gain(r, b, "non"), _spread(r, b, "non"))]
    evidence = (f"non-reasoning gain {_gains_text(r, 'non', rl)} vs {_gains_text(r, 'non', sft)} points "
                f"({_seeds(r.n_seeds())})")
    if _unresolved(r, "non", [*rl, *sft], [(a, b) for a in rl for b in sft]):
        return _within(evidence)
    if not ordered:
        return Verdict("not reproduced", evidence + "; no SFT arm is below RL")
    problems = [f"{b} is not below {a}" for a in rl for b in sft if (a, b) not in ordered]
    problems += [f"{b}'s change is not a loss beyond the spread" for b in sft if b not in forgot]
    problems += [f"{a} forgets too" for a in rl if a not in kept]
    return Verdict("differs" if problems else "reproduced", evidence + "".join(f"; {p}" for p in problems))


def controlled_rl_gains_math(r: Results) -> Verdict:
    """Math gains: RL gains beyond the spread and is not below any SFT arm by more than the spread."""
    rl, sft = r.rl_arms(), r.sft_arms()
    evidence = f"math gain {_gains_text(r, 'math', rl)} vs {_gains_text(r, 'math', sft)} points ({_seeds(r.n_seeds())})"

    def clearly_below(a: str, b: str) -> bool:
        return _gain(r, a, "math").mean() < _gain(r, b, "math").mean() and _apart(r, a, b, "math")

    below = [f"{a} is below {b} by more than the spread" for a in rl for b in sft if clearly_below(a, b)]
    not_gaining = [a for a in rl if not report.gains_beyond_spread(_gain(r, a, "math"), _spread(r, a, "math"))]
    if not_gaining:
        within = [a for a in not_gaining if not _beyond(r, a, "math")]
        if len(within) == len(rl) and not below:  # no RL change and no gap to SFT can be told from noise
            return Verdict("unresolved", evidence + f"; {', '.join(rl)}'s math change is within the spread")
        return Verdict("not reproduced", evidence + f"; {', '.join(not_gaining)} gains no math beyond the spread"
                       + "".join(f"; {p}" for p in below))
    return Verdict("differs" if below else "reproduced", evidence + "".join(f"; {p}" for p in below))


def controlled_rl_transfers_other(r: Results) -> Verdict:
    """Other-reasoning gains: RL gains beyond the spread, and more than every SFT arm."""
    rl, sft = r.rl_arms(), r.sft_arms()
    evidence = (f"other-reasoning gain {_gains_text(r, 'other', rl)} vs {_gains_text(r, 'other', sft)} points "
                f"({_seeds(r.n_seeds())})")
    if _unresolved(r, "other", [*rl, *sft], [(a, b) for a in rl for b in sft]):
        return _within(evidence)
    gaining = [a for a in rl if report.gains_beyond_spread(_gain(r, a, "other"), _spread(r, a, "other"))]
    ahead = [a for a in rl if all(_gain(r, a, "other").mean() > _gain(r, b, "other").mean() for b in sft)]
    problems = [f"{a} gains no other reasoning beyond the spread" for a in rl if a not in gaining]
    problems += [f"{a} is not above every SFT arm" for a in rl if a not in ahead]
    status: Status = "reproduced" if not problems else "not reproduced" if not gaining and not ahead else "differs"
    return Verdict(status, evidence + "".join(f"; {p}" for p in problems))


def sft_above_rl(frame: pd.DataFrame, value: str, sft: Sequence[str]) -> tuple[int, int, dict[str, float]]:
    """``seeds.sft_rl_pairs`` on the given SFT arms: per seed, each SFT arm's mean of ``value`` over the
    non-math tasks against the RL arms' mean at the same seed. Returns (pairs where SFT is above, pairs,
    per-arm means over those seeds with RL as "RL")."""
    pairs = sft_rl_pairs(frame, value, sft)
    if pairs.empty:
        raise NotRun("the analysis has no (SFT arm, RL arm) pair at a common seed")
    means = {"RL": float(pairs.drop_duplicates("seed").rl.mean()),
             **{arm: float(pairs.loc[pairs.arm == arm, value].mean()) for arm in sft if arm in set(pairs.arm)}}
    return int((pairs[value] > pairs["rl"]).sum()), len(pairs), means


def _means_text(means: Mapping[str, float], rl: Sequence[str]) -> str:
    return f"{'/'.join(rl)} {fmt(means['RL'])} vs " + ", ".join(f"{a} {fmt(v)}" for a, v in means.items() if a != "RL")


def latent_sft_shifts_more(r: Results) -> Verdict:
    """d* over the non-math tasks, SFT arm against RL per seed."""
    rl, sft = r.analysed("RL"), r.analysed("SFT")
    wins, total, means = sft_above_rl(r.latent.d_star, "d_star", sft)
    return Verdict(_by_fraction(wins, total), f"mean d* on other- and non-reasoning inputs {_means_text(means, rl)}; "
                                              f"SFT above RL in {wins} of {total} (arm, seed) pairs")


def tokens_sft_kl_more(r: Results) -> Verdict:
    """KL over the non-math tasks (the paper's sampled-token estimate, and the exact KL), SFT against RL per seed."""
    rl, sft = r.analysed("RL"), r.analysed("SFT")
    summary = r.tokens.summary
    wins, total, means = sft_above_rl(summary, "kl_sampled", sft)
    full_wins, full_total, _ = sft_above_rl(summary, "kl_full", sft)
    status: Status = ("reproduced" if wins == total and full_wins == full_total else
                      "not reproduced" if wins == 0 and full_wins == 0 else "differs")
    return Verdict(status, f"sampled-token KL on other- and non-reasoning responses {_means_text(means, rl)}; SFT "
                           f"above RL in {wins} of {total} (arm, seed) pairs, {full_wins} of {full_total} by the "
                           "exact KL")


FEW_TOKENS_RATIO = 2.0  # "few" against "many": SFT's mean count at least this many times RL's


def tokens_rl_few_tokens(r: Results) -> Verdict:
    """Distinct token types whose rank moved (any task), SFT arm against RL per seed, and the ratio of means."""
    from mathxfer.analysis.token_analysis import most_shifted, shifted_counts

    rl, sft = r.analysed("RL"), r.analysed("SFT")
    counts = shifted_counts(r.tokens, most_shifted(r.tokens))
    per = counts.groupby(["arm", "kind", "seed"])["distinct_shifted"].mean().reset_index()
    rl_per = per[per.arm.isin(rl)].groupby("seed")["distinct_shifted"].mean().rename("rl")
    pairs = per[per.arm.isin(sft)].merge(rl_per, on="seed")
    if pairs.empty:
        raise NotRun("the token analysis has no (SFT arm, RL arm) pair at a common seed")
    wins, total = int((pairs["distinct_shifted"] > pairs["rl"]).sum()), len(pairs)
    rl_mean = float(pairs.drop_duplicates("seed").rl.mean())
    sft_means = {arm: float(pairs.loc[pairs.arm == arm, "distinct_shifted"].mean()) for arm in sft
                 if arm in set(pairs.arm)}
    ratio = min(sft_means.values()) / rl_mean if rl_mean > 0 else float("inf")
    status = _by_fraction(wins, total)
    if status == "reproduced" and ratio < FEW_TOKENS_RATIO:
        status = "differs"
    ratio_text = "RL moved none" if rl_mean == 0 else f"the fewest SFT's is {ratio:.1f}x RL's"
    return Verdict(status, f"distinct token types whose rank moved {'/'.join(rl)} {rl_mean:.0f} vs "
                           + ", ".join(f"{a} {v:.0f}" for a, v in sft_means.items())
                           + f" (mean over seeds); SFT above RL in {wins} of {total} (arm, seed) pairs; {ratio_text}"
                           + ("" if ratio >= FEW_TOKENS_RATIO else f" (under {FEW_TOKENS_RATIO:g}x: not 'few')"))


# ---- the table -----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claim:
    id: str
    chapter: str  # survey | controlled | latent | tokens: the page that shows the evidence
    statement: str  # the paper's claim, in one sentence
    source: str  # the paper's figure(s) or table(s)
    check: Callable[[Results], Verdict]

    @property
    def text(self) -> str:
        return f"{self.statement} ({self.source})"

    def verdict(self, results: Results) -> Verdict:
        try:
            return self.check(results)
        except NotRun as why:
            return Verdict("not run", str(why))


CLAIMS: tuple[Claim, ...] = (
    Claim("survey-rl-transfers", "survey",
          "RL-tuned models transfer their math gains to other reasoning and non-reasoning tasks better than "
          "SFT-tuned ones", "Figure 2, Table 5", survey_rl_transfers),
    Claim("survey-ti", "survey",
          "The Transferability Index of each surveyed model follows from its benchmark scores",
          "Tables 1 and 5, from Tables 9-11", survey_ti_recomputed),
    Claim("controlled-rl-gains-math", "controlled",
          "RL on math prompts gains math at least as much as SFT on teacher solutions", "Table 1",
          controlled_rl_gains_math),
    Claim("controlled-sft-forgets", "controlled",
          "SFT on math forgets non-reasoning skills; GRPO keeps them", "Table 1, Figure 1", controlled_sft_forgets),
    Claim("controlled-rl-transfers", "controlled",
          "RL's math training carries over to other reasoning tasks, more than SFT's", "Table 1, Figure 1",
          controlled_rl_transfers_other),
    Claim("latent-sft-shifts-more", "latent",
          "SFT shifts the latent representation of non-math inputs more than RL (PCA shift d*)",
          "Figure 3, Tables 2 and 6", latent_sft_shifts_more),
    Claim("tokens-sft-kl-more", "tokens",
          "SFT shifts the output token distribution (KL divergence) on non-math inputs more than RL",
          "Figure 4", tokens_sft_kl_more),
    Claim("tokens-rl-few-tokens", "tokens",
          "RL changes the rank of few token types, SFT of many", "Figure 5, Table 8", tokens_rl_few_tokens),
)


def claim(claim_id: str) -> Claim:
    for c in CLAIMS:
        if c.id == claim_id:
            return c
    raise ValueError(f"unknown claim {claim_id!r}; the claims are: {', '.join(c.id for c in CLAIMS)}")


def assess(profiles: Sequence[str] = PROFILES, studies: Mapping[str, str | Path | None] | None = None
           ) -> dict[str, Results]:
    """Each profile's results; ``studies`` gives a profile's study (record, study file) where it is not the
    profile's own ``recipes/<profile>/study.yaml``."""
    return {p: Results(p, (studies or {}).get(p)) for p in profiles}


def verdicts(results: Results) -> dict[str, Verdict]:
    return {c.id: c.verdict(results) for c in CLAIMS}


def claims_table(profiles: Sequence[str] = PROFILES, studies: Mapping[str, str | Path | None] | None = None,
                 results: Mapping[str, Results] | None = None) -> pd.DataFrame:
    """One row per claim: the claim with its figure, the chapter page that shows it, then per profile
    "<status>: <evidence>"."""
    results = results if results is not None else assess(profiles, studies)
    by_profile = {p: verdicts(r) for p, r in results.items()}
    rows = [{"id": c.id, "claim": c.text, "page": PAGES[c.chapter][0],
             **{p: by_profile[p][c.id].cell() for p in results}} for c in CLAIMS]
    return pd.DataFrame(rows).set_index("id")


def status_of(cell: str) -> Status:
    """The status a ``claims_table`` cell starts with."""
    status = cell.split(":", 1)[0]
    if status not in STATUS_STYLE:
        raise ValueError(f"not a claims-table cell: {cell!r}")
    return status  # type: ignore[return-value]


# ---- the page ------------------------------------------------------------------------------------------

def _status_html(cell: str) -> str:
    import html
    import re

    status = status_of(cell)
    symbol = STATUS_STYLE[status][0]
    evidence = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(cell.split(":", 1)[1].strip()))
    return (f'<strong style="white-space: nowrap"><span aria-hidden="true">{symbol}</span> {status}</strong>'
            f'<br><span class="mathxfer-evidence">{evidence}</span>')


def _page_html(page: str) -> str:
    label = next(text for file, text in PAGES.values() if file == page)
    return f'<a href="{page}">{label}</a>'


def styled(table: pd.DataFrame) -> Any:
    """The claims table for the page: each status as symbol and word (the cell's colour only repeats it),
    the evidence under it, and a link to the chapter that shows it."""
    profiles = [c for c in table.columns if c not in ("claim", "page")]

    def colour(col: pd.Series) -> list[str]:
        return [f"background-color: {STATUS_STYLE[status_of(v)][1]}" for v in col]

    shown = table.rename(columns={"page": "chapter"})
    styler = shown.style.hide(axis="index")
    styler = styler.format(_page_html, subset=["chapter"]).format(_status_html, subset=profiles)
    styler = styler.apply(colour, subset=profiles)
    styler = styler.set_table_attributes('class="mathxfer-claims"').set_table_styles([
        {"selector": "td, th", "props": "white-space: normal; vertical-align: top; text-align: left; "
                                        "padding: 0.3em 0.5em; min-width: 8em"},
        {"selector": ".mathxfer-evidence", "props": "font-size: 0.85em"}])
    return styler


STATUS_MEANING: dict[str, str] = {
    "reproduced": "the direction and every part of the claim hold",
    "differs": "the direction holds, a part or the size does not",
    "not reproduced": "the direction does not hold",
    "unresolved": "every change the claim rests on is within the spread (too few seeds or items to tell)",
    "not run": "no results for that profile",
}


def legend() -> Markdown:
    return Markdown(" · ".join(f"{STATUS_STYLE[s][0]} **{s}**: {meaning}" for s, meaning in STATUS_MEANING.items()))


def sources(results: Mapping[str, Results]) -> Markdown:
    """Which record each profile's column read."""
    lines = []
    for p, r in results.items():
        rec = r.record
        lines.append(f"- **{p}**: " + (r.missing if rec is None else
                                       f"study `{rec.key}`, seeds {', '.join(map(str, rec.spec.seeds))}, "
                                       f"arms {', '.join(rec.arms)}, results of "
                                       f"{rec.provenance.get('created', 'unknown')[:10]}"))
    return Markdown("The survey claims read the paper's reported scores (the same in every profile); the "
                    "others read each profile's study record:\n\n" + "\n".join(lines))
