"""Train the heads on an index's frozen embeddings and print their figures (80/20 split by product).

    nice python benchmarks/train_heads_44k.py --index /tmp/idx44k [--json out.json]

Prints: classifier metrics per attribute (accuracy, macro F1, ECE before/after temperature
scaling, train time), then the test->test retrieval table (leave-one-out inside the test rows):
frozen features vs projection heads, P@1/P@10 by articleType and by articleType AND baseColour.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

import numpy as np

from fashionrec.catalog.schema import CATEGORICAL_FIELDS
from fashionrec.eval.retrieval import leave_one_out
from fashionrec.heads import ProjectionHead, evaluate_classifier, split_by_product
from fashionrec.index import load_index
from fashionrec.pipeline import IndexDir

ATTRIBUTES = list(CATEGORICAL_FIELDS)
log = logging.getLogger("train_heads")


def load(index_dir: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Vectors (n, d) and the attribute columns ("" = missing) of an index directory."""
    d = IndexDir(index_dir)
    m = d.read_manifest()
    products = d.read_products(m)
    X = load_index(d.vectors_path(m.generation)).get_vectors(products["key"].to_numpy())
    labels = {}
    for a in ATTRIBUTES:
        col = products[a].astype(object)
        labels[a] = col.where(col.notna(), "").astype(str).to_numpy(dtype=object)
    return np.ascontiguousarray(X, dtype=np.float32), labels


def p_at(vectors: np.ndarray, labels: dict[str, np.ndarray]) -> dict[str, float]:
    """P@1/P@10 by article type, and by article type AND base colour."""
    by_type = leave_one_out(vectors, labels["article_type"], ks=(1, 10), per_label=False)
    both = leave_one_out(
        vectors,
        labels["article_type"],
        ks=(1, 10),
        relevance=labels["base_colour"],
        per_label=False,
    )
    return {
        "type_p@1": by_type.overall["p@1"],
        "type_p@10": by_type.overall["p@10"],
        "type+colour_p@1": both.overall["p@1"],
        "type+colour_p@10": both.overall["p@10"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", default="/tmp/idx44k")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=12, help="projection head epochs")
    parser.add_argument("--cls-epochs", type=int, default=30, help="classifier epochs")
    parser.add_argument("--cls-hidden", type=int, default=0, help="classifier hidden layer")
    parser.add_argument("--losses", default="proxy", help="comma list: proxy,supcon")
    parser.add_argument("--skip-classifier", action="store_true")
    parser.add_argument("--skip-retrieval", action="store_true")
    parser.add_argument("--json", type=Path, help="also write all figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")

    X, labels = load(args.index)
    train, test = split_by_product(len(X), test_size=0.2, seed=args.seed)
    print(
        f"{args.index}: {len(X)} products, dim {X.shape[1]}; train {len(train)}, test {len(test)}"
    )
    out: dict = {"index": args.index, "n": len(X), "seed": args.seed}

    if not args.skip_classifier:
        rep = evaluate_classifier(
            X,
            labels,
            test_size=0.2,
            seed=args.seed,
            epochs=args.cls_epochs,
            hidden=args.cls_hidden,
        )
        out["classifier"] = rep
        print(f"\nAttribute classifiers (hidden={args.cls_hidden}), {rep['train_seconds']:.1f} s")
        print(
            f"{'attribute':<16}{'classes':>8}{'acc':>8}{'macroF1':>9}{'ECE raw':>9}"
            f"{'ECE cal':>9}{'T':>7}"
        )
        for name, e in rep["attributes"].items():
            print(
                f"{name:<16}{len(e['classes']):>8}{e['accuracy']:>8.3f}{e['macro_f1']:>9.3f}"
                f"{e['ece_uncalibrated']:>9.3f}{e['ece']:>9.3f}{e['temperature']:>7.2f}"
            )

    if not args.skip_retrieval:
        test_labels = {k: v[test] for k, v in labels.items()}
        rows = [("frozen", X.shape[1], 0.0, p_at(X[test], test_labels))]
        tasks_list = [
            ("article_type", {"article_type": 1.0}),
            ("article_type+base_colour", {"article_type": 1.0, "base_colour": 1.0}),
        ]
        for loss in args.losses.split(","):
            for tname, weights in tasks_list:
                t0 = time.perf_counter()
                head = ProjectionHead(loss=loss, epochs=args.epochs).fit(
                    X[train],
                    {k: labels[k][train] for k in weights},
                    weights=weights,
                    seed=args.seed,
                )
                secs = time.perf_counter() - t0
                rows.append(
                    (
                        f"head[{loss}] {tname}",
                        head.out_dim,
                        secs,
                        p_at(head.transform(X[test]), test_labels),
                    )
                )
        out["retrieval"] = [
            {"name": n, "dim": d, "train_seconds": round(s, 1), **m} for n, d, s, m in rows
        ]
        print("\nRetrieval, test->test leave-one-out")
        print(
            f"{'features':<42}{'dim':>5}{'type P@1':>9}{'P@10':>7}{'type+col P@1':>13}"
            f"{'P@10':>7}{'train s':>9}"
        )
        for name, dim, secs, m in rows:
            print(
                f"{name:<42}{dim:>5}{m['type_p@1']:>9.3f}{m['type_p@10']:>7.3f}"
                f"{m['type+colour_p@1']:>13.3f}{m['type+colour_p@10']:>7.3f}{secs:>9.1f}"
            )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
