"""Commands that measure matching on labelled calls and learn the score model from them:
`eufunds evaluate` and `eufunds train`."""

from __future__ import annotations

import json
from pathlib import Path

import click

from eufunds import views
from eufunds.config import Config
from eufunds.config_matching import MODEL_FILE, model_document
from eufunds.learning import TARGET_PRECISION, cross_validate, evaluate, read_labelled_calls, train
from eufunds.options import with_config

LABELS_OPTION = click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Labelled calls, JSONL in the format of shared/eval/dev.jsonl.",
)


def _labelled(labels_path: Path):
    try:
        return read_labelled_calls(labels_path)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("evaluate")
@LABELS_OPTION
@click.option(
    "--rankings-out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write {rankings, digest} per department as JSON here.",
)
@click.option(
    "--cv",
    "folds",
    type=click.IntRange(min=2, max=20),
    help="Cross-validate in K folds by call: learn the model on the other folds' labels.",
)
@click.option(
    "--seed",
    type=int,
    default=1,
    show_default=True,
    help="With --cv: how calls are shuffled into folds.",
)
@with_config
def evaluate_command(
    labels_path: Path, rankings_out: Path | None, folds: int | None, seed: int, config: Config
):
    """Measure matching quality on labelled calls: nDCG@10, P@5, R@20, digest precision/recall.

    Without --cv nothing is learnt from the labels: calls are ranked with the configuration
    and the model it ships (config/model.json). With --cv K the model is learnt K times,
    each time on the other folds, and a reliability table compares predicted and observed
    precision.

    Example: eufunds evaluate --labels ../shared/eval/dev.jsonl --rankings-out rankings.json
    """
    calls, labels = _labelled(labels_path)
    if folds:
        result = cross_validate(config, calls, labels, folds, seed=seed)
        title = (
            f"Matching quality on {labels_path.name} ({len(calls)} calls, {folds}-fold CV, "
            f"seed {seed})"
        )
    else:
        result = evaluate(config, calls, labels)
        title = f"Matching quality on {labels_path.name} ({len(calls)} calls)"
    console = views.console()
    console.print(views.quality_table(title, result.departments))
    console.print(views.micro_line(result.micro))
    if result.bands:
        console.print(views.reliability_table(result.bands))
    if rankings_out:
        document = {"rankings": result.rankings, "digest": result.digests}
        rankings_out.write_text(
            json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8"
        )
        click.echo(f"rankings written to {rankings_out}")


@click.command("train")
@LABELS_OPTION
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the model (default: model.json in the configuration folder).",
)
@click.option(
    "--precision",
    type=click.FloatRange(0.05, 0.99),
    default=TARGET_PRECISION,
    show_default=True,
    help="The digest precision the cut-offs are chosen for.",
)
@with_config
def train_command(labels_path: Path, out: Path | None, precision: float, config: Config):
    """Learn the score model and the digest cut-offs from labelled calls.

    Example: eufunds train --labels ../shared/eval/dev.jsonl
    """
    calls, labels = _labelled(labels_path)
    model = train(config, calls, labels, labels_path, precision)
    target = out or config.directory / MODEL_FILE
    text = json.dumps(model_document(model), ensure_ascii=False, indent=1) + "\n"
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    click.echo(
        f"model {model.version} written to {target}: {len(model.features)} features, "
        f"cut-off {model.threshold:.3f} ({len(model.thresholds)} departments with their own)"
    )
