"""Commands that measure matching on labelled calls and learn the score model from them:
`eufunds evaluate` and `eufunds train`."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from db.records import LOCAL_TZ
from eufunds import views
from eufunds.config import Config
from eufunds.config_matching import MODEL_FILE, TARGET_PRECISION, model_document
from eufunds.feedback_labels import stored_feedback_labels
from eufunds.options import open_store, with_config, with_db
from eufunds.profiles import effective_config

LABELS_OPTION = click.option(
    "--labels",
    "labels_path",
    required=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Labelled calls, JSONL in the format of shared/eval/dev.jsonl.",
)


def _labelled(labels_path: Path):
    # eufunds.learning (the matcher, numpy, scipy) is imported by the commands that learn.
    from eufunds.learning import read_labelled_calls

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
    from eufunds.learning import cross_validate, evaluate

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
@click.option(
    "--labels",
    "labels_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Labelled calls, JSONL in the format of shared/eval/dev.jsonl.",
)
@click.option(
    "--feedback",
    is_flag=True,
    help="Also learn from the staff feedback stored in the database (--db): only the "
    "call-department pairs staff judged are labelled.",
)
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
@with_db
@with_config
def train_command(
    labels_path: Path | None,
    feedback: bool,
    out: Path | None,
    precision: float,
    db_path: Path,
    config: Config,
):
    """Learn the score model and the digest cut-offs from labelled calls, staff feedback or
    both.

    With --feedback the profiles are the database's (those the digests were made with) and
    the feedback's calls are weighted against every stored call.

    Example: eufunds train --labels ../shared/eval/dev.jsonl --feedback
    """
    from eufunds.learning import LabelSource, TooFewLabels, train

    if labels_path is None and not feedback:
        raise click.UsageError("give --labels FILE, --feedback, or both")
    if labels_path is None and out is None:
        # Learnt from feedback alone the model is worse than none (README, Quality): it may
        # be written for a look, never over the shipped model without being asked to.
        raise click.UsageError(
            "--feedback without --labels needs --out FILE: a model learnt from feedback alone "
            "ranks worse than the shipped one (README, Quality), so it does not replace it"
        )
    sources = []
    if labels_path is not None:
        calls, labels = _labelled(labels_path)
        sources.append(LabelSource("labels", labels_path.name, calls, labels))
    if feedback:
        with open_store(db_path, create=False) as store:
            config = effective_config(config, store, datetime.now(LOCAL_TZ), seed=False)
            given = stored_feedback_labels(store, [d.id for d in config.departments])
            corpus = store.list_calls() if given.calls else []
        click.echo(given.describe())
        if labels_path is None:
            click.echo(
                "note: feedback covers only the calls staff were shown; learnt alone it "
                "favours recall over precision (README, Quality): add --labels FILE if you can",
                err=True,
            )
        feedback_source = LabelSource(
            "feedback", db_path.name, given.calls, given.labels, complete=False, corpus=corpus
        )
        sources.append(feedback_source)
    try:
        model = train(config, sources, precision)
    except TooFewLabels as exc:
        raise click.ClickException(str(exc)) from None
    target = out or config.directory / MODEL_FILE
    text = json.dumps(model_document(model), ensure_ascii=False, indent=1) + "\n"
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(target)
    used = dict(model.trained_on).get("feedback pairs")
    if used is not None:
        click.echo(f"{used} feedback labels used")
    click.echo(
        f"model {model.version} written to {target}: {len(model.features)} features, "
        f"cut-off {model.threshold:.3f} ({len(model.thresholds)} departments with their own)"
    )
