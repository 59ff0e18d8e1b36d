"""Fit L(N, D) = E + A/N^α + B/D^β to training runs; compute-optimal N and D.

Chinchilla's approach 3 (Hoffmann et al. 2022, App. D.2): with A = e^a, B = e^b,
E = e^e, minimize over (a, b, e, α, β)

    Σ_i Huber_δ( LSE(a − α·log N_i, b − β·log D_i, e) − log L_i ),   δ = 1e-3

with L-BFGS from a grid of starts (α, β ∈ {0, 0.5, ..., 2}, e ∈ {−1, −0.5, ..., 1},
a, b ∈ {0, 5, ..., 25}) and keep the best. The log-sum-exp form keeps the fit in
log space, where runs of very different loss weigh alike. Besiroglu et al. 2024
("Chinchilla Scaling: A replication attempt") find the paper's constants fit its
own data poorly, likely from an optimizer stopped early: tolerances here are tight.

The 4,500-point grid is evaluated in one broadcast and L-BFGS starts from the
`n_starts` best points (almost all starts end in the same minimum; the default
16 costs a second or so). The bootstrap refits runs resampled with replacement,
each from the full-data fit, and reports percentile intervals.

Runs come from `load_runs` (formats in its docstring).
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.optimize import minimize  # scipy comes with datasketch, a base dependency

from trainer.plan import human

HUBER_DELTA = 1e-3  # Hoffmann et al. 2022, App. D.2
# Hoffmann et al.'s grid of initializations: 5 × 5 × 5 × 6 × 6 = 4,500 points.
GRID_ALPHA = GRID_BETA = (0.0, 0.5, 1.0, 1.5, 2.0)
GRID_E = (-1.0, -0.5, 0.0, 0.5, 1.0)
GRID_A = GRID_B = (0.0, 5.0, 10.0, 15.0, 20.0, 25.0)
GRID = np.array(list(itertools.product(GRID_A, GRID_B, GRID_E, GRID_ALPHA, GRID_BETA)))  # (4500, 5): a, b, e, α, β
MIN_RUNS = 6  # five constants, and at least one run's worth of residual
CONSTANTS = ("E", "A", "B", "alpha", "beta")


class RunsError(ValueError):
    """A runs file or folder that cannot be read, naming the file and line."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    params: float
    tokens: float
    loss: float
    source: str
    """Where the record came from: `file:line`, or the run folder and which loss was taken."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ScalingLaw:
    E: float
    A: float
    B: float
    alpha: float
    beta: float

    def loss(self, params, tokens):
        """Predicted loss; works elementwise on arrays."""
        return self.E + self.A / np.power(params, self.alpha) + self.B / np.power(tokens, self.beta)

    def compute_optimal(self, flops: float) -> tuple[float, float]:
        """(N_opt, D_opt) minimizing L under 6·N·D = C (Hoffmann et al. 2022, eq. 4)."""
        a = self.beta / (self.alpha + self.beta)
        b = self.alpha / (self.alpha + self.beta)
        g = (self.alpha * self.A / (self.beta * self.B)) ** (1 / (self.alpha + self.beta))
        return g * (flops / 6) ** a, (flops / 6) ** b / g


@dataclass(frozen=True, kw_only=True, slots=True)
class Fit:
    law: ScalingLaw
    objective: float
    """Σ Huber_δ of the log-loss residuals at the optimum."""
    rms_log_residual: float
    """Root mean square of log(predicted) − log(observed) over the runs."""
    runs: int
    starts: int
    """Grid points L-BFGS started from."""
    bootstrap: tuple[ScalingLaw, ...] = ()
    """Fits on resampled runs; empty without a bootstrap."""

    def constant_interval(self, name: str, level: float = 0.95) -> tuple[float, float]:
        """Bootstrap percentile interval of one of CONSTANTS."""
        return _percentile_interval(np.array([getattr(law, name) for law in self.bootstrap]), level)

    def optimal_interval(self, flops: float, level: float = 0.95) -> tuple[tuple[float, float], tuple[float, float]]:
        """Bootstrap percentile intervals of (N_opt, D_opt) at `flops`."""
        optima = np.array([law.compute_optimal(flops) for law in self.bootstrap])
        return _percentile_interval(optima[:, 0], level), _percentile_interval(optima[:, 1], level)


def _percentile_interval(values: np.ndarray, level: float) -> tuple[float, float]:
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def _objective(
    theta: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_loss: np.ndarray
) -> tuple[float, np.ndarray]:
    """Huber objective and its gradient with respect to theta = (a, b, e, α, β); arrays are (runs,)."""
    a, b, e, alpha, beta = theta
    term_n, term_d = a - alpha * log_n, b - beta * log_d
    top = np.maximum(np.maximum(term_n, term_d), e)  # log-sum-exp shifted by its largest term
    w_n, w_d, w_e = np.exp(term_n - top), np.exp(term_d - top), np.exp(e - top)
    total = w_n + w_d + w_e
    residual = top + np.log(total) - log_loss
    w_n, w_d, w_e = w_n / total, w_d / total, w_e / total  # softmax: d prediction / d term
    small = np.abs(residual) <= HUBER_DELTA
    huber = np.where(small, 0.5 * residual**2, HUBER_DELTA * (np.abs(residual) - 0.5 * HUBER_DELTA))
    slope = np.where(small, residual, HUBER_DELTA * np.sign(residual))
    slope_n, slope_d = slope * w_n, slope * w_d
    grad = np.array([slope_n.sum(), slope_d.sum(), slope @ w_e, -(slope_n @ log_n), -(slope_d @ log_d)])
    return float(huber.sum()), grad


def _grid_objective(grid: np.ndarray, log_n: np.ndarray, log_d: np.ndarray, log_loss: np.ndarray) -> np.ndarray:
    """The objective at every grid point at once: grid (points, 5) -> (points,)."""
    a, b, e, alpha, beta = (grid[:, i : i + 1] for i in range(5))  # each (points, 1)
    predicted = np.logaddexp(np.logaddexp(a - alpha * log_n, b - beta * log_d), e)  # (points, runs)
    residual = np.abs(predicted - log_loss)
    huber = np.where(residual <= HUBER_DELTA, 0.5 * residual**2, HUBER_DELTA * (residual - 0.5 * HUBER_DELTA))
    return huber.sum(axis=1)


# L-BFGS-B's defaults stop far from the optimum on this objective (values ~1e-4).
_LBFGS_OPTIONS = {"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-12}


def _best_minimum(starts, log_n: np.ndarray, log_d: np.ndarray, log_loss: np.ndarray) -> tuple[np.ndarray, float]:
    """L-BFGS from every start; the lowest minimum found and its objective."""
    best_theta, best_value = None, math.inf
    for start in starts:
        result = minimize(
            _objective, start, args=(log_n, log_d, log_loss), jac=True, method="L-BFGS-B", options=_LBFGS_OPTIONS
        )
        if result.fun < best_value:
            best_theta, best_value = result.x, float(result.fun)
    return best_theta, best_value


def _law(theta: np.ndarray) -> ScalingLaw:
    a, b, e, alpha, beta = theta
    return ScalingLaw(E=math.exp(e), A=math.exp(a), B=math.exp(b), alpha=float(alpha), beta=float(beta))


def fit_scaling_law(runs: list[Run], *, n_starts: int = 16, bootstrap: int = 0, seed: int = 0) -> Fit:
    """Fit L(N, D) to runs' losses from the `n_starts` best grid points.

    With `bootstrap` > 0, refit that many resamples of the runs (drawn with
    replacement, seeded by `seed`), each starting from the full-data fit.
    """
    if len(runs) < MIN_RUNS:
        raise RunsError(f"a scaling fit needs at least {MIN_RUNS} runs, got {len(runs)}")
    log_n = np.log([run.params for run in runs])  # (runs,)
    log_d = np.log([run.tokens for run in runs])
    log_loss = np.log([run.loss for run in runs])
    if len(np.unique(log_n)) < 2 or len(np.unique(log_d)) < 2:
        raise RunsError("a scaling fit needs runs at two or more model sizes and two or more token counts")
    order = np.argsort(_grid_objective(GRID, log_n, log_d, log_loss), kind="stable")
    theta, value = _best_minimum(GRID[order[:n_starts]], log_n, log_d, log_loss)
    law = _law(theta)
    log_residual = np.log(law.loss(np.exp(log_n), np.exp(log_d))) - log_loss
    rng = np.random.default_rng(seed)
    resampled = []
    for _ in range(bootstrap):
        pick = rng.integers(0, len(runs), size=len(runs))
        theta_b, _ = _best_minimum([theta], log_n[pick], log_d[pick], log_loss[pick])
        resampled.append(_law(theta_b))
    return Fit(
        law=law,
        objective=value,
        rms_log_residual=float(np.sqrt(np.mean(log_residual**2))),
        runs=len(runs),
        starts=min(n_starts, len(GRID)),
        bootstrap=tuple(resampled),
    )


def load_runs(paths: list[str | Path]) -> list[Run]:
    """Runs from files and folders, in the order given (folders sorted by name).

    - `*.jsonl`: one run per line, `{"params": N, "tokens": D, "loss": L}`
      (other keys ignored, blank lines skipped).
    - `*.csv`: a header naming at least `params,tokens,loss`, one run per row.
    - a training output folder: `run.json` with `params`, and `metrics.jsonl`
      with one record per log step (`step`, `tokens`, `loss`, and `val_loss`
      on evaluation steps). The run's loss is the *last* evaluation's
      `val_loss` (not the minimum over evaluations, which noise biases low), at
      that record's `tokens`; a run that logged no `val_loss` falls back to its
      last record's training `loss`, and `Run.source` says which was taken.
    - any other folder: the `*.jsonl` and `*.csv` files and run folders in it,
      recursively.
    """
    runs: list[Run] = []
    for path in map(Path, paths):
        if path.is_dir():
            runs.extend(_load_folder(path))
        elif path.is_file():
            runs.extend(_load_file(path))
        else:
            raise RunsError(f"{path}: no such file or folder")
    return runs


def _load_folder(folder: Path) -> list[Run]:
    if (folder / "metrics.jsonl").is_file() or (folder / "run.json").is_file():
        return [_load_run_folder(folder)]
    runs = []
    for path in sorted(folder.iterdir()):
        if path.is_dir():
            runs.extend(_load_folder(path))
        elif path.suffix in (".jsonl", ".csv"):
            runs.extend(_load_file(path))
    return runs


def _load_file(path: Path) -> list[Run]:
    if path.suffix == ".csv":
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            missing = {"params", "tokens", "loss"} - set(reader.fieldnames or ())
            if missing:
                raise RunsError(f"{path}: CSV header lacks {', '.join(sorted(missing))}")
            return [_run(row, f"{path}:{line}") for line, row in enumerate(reader, start=2)]
    if path.suffix == ".jsonl":
        return [_run(record, where) for where, record in _read_jsonl(path)]
    raise RunsError(f"{path}: not a .jsonl or .csv runs file, nor a folder")


def _load_run_folder(folder: Path) -> Run:
    run_json, metrics = folder / "run.json", folder / "metrics.jsonl"
    for required in (run_json, metrics):
        if not required.is_file():
            raise RunsError(f"{folder}: a run folder needs run.json and metrics.jsonl; {required.name} is missing")
    try:
        params = json.loads(run_json.read_text())["params"]
    except (json.JSONDecodeError, KeyError, TypeError) as err:
        raise RunsError(f"{run_json}: expected a JSON object with 'params' ({err})") from None
    records = _read_jsonl(metrics)
    evaluations = [(where, record) for where, record in records if "val_loss" in record]
    if evaluations:
        where, record = evaluations[-1]
        loss_key = "val_loss"
    elif records:
        where, record = records[-1]
        loss_key = "loss"
    else:
        raise RunsError(f"{metrics}: no records")
    fields = {"params": params, "tokens": record.get("tokens"), "loss": record.get(loss_key)}
    return _run(fields, f"{where} ({loss_key} at step {record.get('step', '?')})")


def _read_jsonl(path: Path) -> list[tuple[str, dict]]:
    records = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            raise RunsError(f"{path}:{number}: not JSON ({err})") from None
        if not isinstance(record, dict):
            raise RunsError(f"{path}:{number}: expected a JSON object")
        records.append((f"{path}:{number}", record))
    return records


def _run(fields: dict, where: str) -> Run:
    values = {}
    for key in ("params", "tokens", "loss"):
        try:
            value = float(fields[key])
        except KeyError:
            raise RunsError(f"{where}: missing {key!r}") from None
        except (TypeError, ValueError):
            raise RunsError(f"{where}: {key} must be a number, got {fields[key]!r}") from None
        if not (math.isfinite(value) and value > 0):
            raise RunsError(f"{where}: {key} must be a positive number, got {fields[key]!r}")
        values[key] = value
    return Run(**values, source=where)


def format_fit(fit: Fit, budgets: list[float]) -> str:
    """The constants with bootstrap intervals, then N_opt and D_opt per compute budget."""
    law = fit.law
    boot = bool(fit.bootstrap)
    header = (
        f"L(N, D) = E + A/N^α + B/D^β fitted to {fit.runs} runs (Huber δ={HUBER_DELTA:g} on log loss, "
        f"L-BFGS from the best {fit.starts} of {len(GRID):,} grid points); "
        f"rms log residual {fit.rms_log_residual:.4f}"
    )
    interval = f"95% interval ({len(fit.bootstrap)} bootstrap resamples)" if boot else "95% interval (no bootstrap)"
    lines = [header, "", f"| constant | value | {interval} |", "|---|---:|---|"]
    for name, label in zip(CONSTANTS, ("E", "A", "B", "α", "β")):
        low_high = "{:.4g} – {:.4g}".format(*fit.constant_interval(name)) if boot else "–"
        lines.append(f"| {label} | {getattr(law, name):.4g} | {low_high} |")
    lines += [
        "",
        "Compute-optimal allocation (C = 6·N·D):",
        "",
        "| compute (FLOPs) | parameters N | tokens D | tokens per parameter | predicted loss |",
        "|---:|---:|---:|---:|---:|",
    ]
    for flops in budgets:
        params, tokens = law.compute_optimal(flops)
        n_text, d_text = human(params), human(tokens)
        if boot:
            (n_low, n_high), (d_low, d_high) = fit.optimal_interval(flops)
            n_text += f" ({human(n_low)} – {human(n_high)})"
            d_text += f" ({human(d_low)} – {human(d_high)})"
        lines.append(f"| {flops:.3g} | {n_text} | {d_text} | {tokens / params:.1f} | {law.loss(params, tokens):.4f} |")
    return "\n".join(lines)
