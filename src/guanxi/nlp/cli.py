"""Chinese NLP: `guanxi nlp train|evaluate|crossval|classify`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail
from guanxi.core.errors import UserError
from guanxi.nlp.pipeline import default_pipeline
from guanxi.nlp.service import classify_lines

# From a checkout, the shared data sits beside the project (see docs/nlp.md).
DEFAULT_DATA = Path("../shared/data")
DEFAULT_CORPORA = DEFAULT_DATA / "sentiment"
T = TypeVar("T")


def progress_bar() -> Progress:
    """A bar per task: what, how far, how long."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
    )


def _with_progress(description: str, work: Callable[[Callable[[int], None]], T]) -> T:
    """Run ``work`` with a progress bar it advances; a UserError ends the command with its
    message."""
    with progress_bar() as bar:
        task = bar.add_task(description, total=None)
        try:
            return work(lambda done: bar.advance(task, done))
        except UserError as exc:
            raise fail(exc.translated(i18n.gettext)) from None


def _shipped_dir() -> Path:
    from guanxi.nlp.sentiment import shipped_model_path  # noqa: PLC0415 - the sentiment model's module: ~7 ms at every `guanxi` start

    return shipped_model_path().parent


def train(
    data: Annotated[
        Path, typer.Option(help="Folder with the sentiment corpora.")
    ] = DEFAULT_CORPORA,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the model; default: in the package.")
    ] = None,
    version: Annotated[str, typer.Option(help="The model's version.")] = "",
) -> None:
    """Train the sentiment model and the keyword IDF table.

    Fits on the training split of the corpora in DATA and writes both into the package (or
    into OUTPUT)."""
    from guanxi.nlp.training import DEFAULT_VERSION  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start
    from guanxi.nlp.training import train as train_model  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start

    output_dir = output or _shipped_dir()
    command = "guanxi nlp train" + (f" --data {data}" if data != DEFAULT_CORPORA else "")
    result = _with_progress(
        "preparing texts",
        lambda advance: train_model(
            data_dir=data,
            output_dir=output_dir,
            version=version or DEFAULT_VERSION,
            training_command=command,
            progress=advance,
        ),
    )
    console.print(
        f"trained {result.model.version} on {result.training_texts} texts: "
        f"{len(result.model.weights)} features -> {result.model_path}; "
        f"{result.idf_words} keyword IDF words -> {result.idf_path}"
    )
    console.print("next: guanxi nlp evaluate (writes the evaluation report beside it)")


def evaluate(
    data: Annotated[
        Path, typer.Option(help="Folder with the sentiment corpora.")
    ] = DEFAULT_CORPORA,
    model: Annotated[
        Path | None, typer.Option(help="The model file; default: the shipped one.")
    ] = None,
    snownlp_sample: Annotated[
        int, typer.Option(min=0, help="Held-out texts per corpus SnowNLP scores (0: skip).")
    ] = 1000,
    report: Annotated[
        Path | None,
        typer.Option(help="Where to write the JSON report; default: beside the model."),
    ] = None,
) -> None:
    """Compare the model with SnowNLP on each corpus's held-out split (accuracy, F1)."""
    from guanxi.nlp.training import evaluate as evaluate_model  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start
    from guanxi.nlp.training import report_path, write_report  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start

    result = _with_progress(
        "scoring held-out texts",
        lambda advance: evaluate_model(
            data_dir=data, model_path=model, snownlp_sample=snownlp_sample, progress=advance
        ),
    )
    target = report or report_path(model.parent if model else _shipped_dir())
    write_report(result, target)
    table = Table(
        "corpus",
        "classifier",
        "texts",
        "accuracy",
        "F1",
        "neutral",
        title=result["model_version"],
    )
    for corpus, entry in result["corpora"].items():
        for name in (
            "guanxi",
            "guanxi_outside_neutral_band",
            "guanxi_on_snownlp_sample",
            "snownlp",
        ):
            if name in entry:
                row = entry[name]
                table.add_row(
                    corpus,
                    name,
                    str(row["texts"]),
                    f"{row['accuracy']:.2%}",
                    f"{row['f1']:.2%}",
                    f"{row['neutral_share']:.1%}",
                )
    console.print(table)
    console.print(f"report -> {target}")


def crossval(
    data: Annotated[
        Path, typer.Option(help="Folder with the sentiment corpora.")
    ] = DEFAULT_CORPORA,
    folds: Annotated[int, typer.Option(min=2, max=20, help="How many folds.")] = 5,
    weibo_weight: Annotated[
        float, typer.Option(min=0.1, help="How much a Weibo post weighs against a review.")
    ] = 5.0,
    regularisation: Annotated[
        float, typer.Option(min=0.0001, help="Logistic regression's C (smaller: smoother).")
    ] = 0.3,
) -> None:
    """Cross-validate the training on the Weibo training posts (the held-out split is kept
    out); the last line is for scripts."""
    from guanxi.nlp.training import cross_validate  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start

    results = _with_progress(
        "preparing texts",
        lambda advance: cross_validate(
            data_dir=data,
            folds=folds,
            weibo_weight=weibo_weight,
            regularisation=regularisation,
            progress=advance,
        ),
    )
    table = Table("fold", "Weibo posts", "accuracy", "F1", title="cross-validation")
    for number, result in enumerate(results, start=1):
        table.add_row(str(number), str(result.texts), f"{result.accuracy:.2%}", f"{result.f1:.2%}")
    console.print(table)
    mean = sum(result.accuracy for result in results) / len(results)
    console.print(f"cv_accuracy_weibo={mean:.4f} folds={len(results)}")


def classify(
    file: Annotated[
        Path | None, typer.Argument(help="One text per line; standard input when absent.")
    ] = None,
) -> None:
    """Enrich each line of FILE (or standard input); print one JSON object per line."""
    try:
        pipeline = default_pipeline()
        if file is None:
            records = classify_lines(sys.stdin, pipeline=pipeline)
            for record in records:
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
            return
        if not file.is_file():
            raise fail(f"{file} is not a file. Pass a text file with one text per line.")
        with file.open(encoding="utf-8-sig", errors="replace") as lines:
            for record in classify_lines(lines, pipeline=pipeline):
                sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from None


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    nlp_app = typer.Typer(
        help="Chinese NLP: the sentiment model and text enrichment.", no_args_is_help=True
    )
    nlp_app.command("train")(train)
    nlp_app.command("evaluate")(evaluate)
    nlp_app.command("crossval")(crossval)
    nlp_app.command("classify")(classify)
    app.add_typer(nlp_app, name="nlp")
