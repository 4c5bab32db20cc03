"""Query latency: encode one query + FAISS flat inner-product search, on 10k and 100k vectors.

The index holds random unit vectors of the model's dimension (search cost does not
depend on what the vectors mean). The encoder is an installed model bundle
(`--bundle DIR`, default: the active model) run by the app's OnnxEncoder.
Prints median and p95 milliseconds per query; never asserts.

    python benchmarks/bench_query.py                       # active model
    python benchmarks/bench_query.py --bundle DIR --sizes 10000 100000
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

QUERIES = [
    "graph neural networks for citation recommendation",
    "protein structure prediction with deep learning",
    "contrastive pre-training of scientific document embeddings",
    "randomized controlled trial of statins in elderly patients",
    "dense passage retrieval for open-domain question answering",
    "CRISPR off-target effects",
    "transformer language models for chemistry",
    "zero-shot classification of research fields",
]


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", help="model bundle folder (default: the active installed model)")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeats", type=int, default=5, help="passes over the query list")
    parser.add_argument("--k", type=int, default=10)
    args = parser.parse_args()

    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
    from scimult_desktop.index.faiss_index import FaissIndex
    from scimult_desktop.services.models import bundles as models

    folder = args.bundle or models.model_path()
    encoder = OnnxEncoder(folder, engine=args.engine)
    encoder.encode_query(QUERIES[:1], "search")  # load the session
    print(f"model {encoder.name} (dim {encoder.dim}), engine {encoder.engine}, k={args.k}")
    rng = np.random.default_rng(0)
    for size in args.sizes:
        vectors = rng.standard_normal((size, encoder.dim)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        index = FaissIndex(encoder.dim)
        start = time.perf_counter()
        index.add(np.arange(size), vectors)
        build_s = time.perf_counter() - start
        encode_ms, search_ms, total_ms = [], [], []
        for _ in range(args.repeats):
            for query in QUERIES:
                t0 = time.perf_counter()
                q = encoder.encode_query([query], "search")
                t1 = time.perf_counter()
                index.search(q, args.k)
                t2 = time.perf_counter()
                encode_ms.append((t1 - t0) * 1e3)
                search_ms.append((t2 - t1) * 1e3)
                total_ms.append((t2 - t0) * 1e3)
        print(
            f"{size:>7} vectors (built in {build_s:.2f}s): "
            f"encode {statistics.median(encode_ms):6.2f} ms, search {statistics.median(search_ms):6.2f} ms, "
            f"total median {statistics.median(total_ms):6.2f} ms, p95 {percentile(total_ms, 95):6.2f} ms"
        )


if __name__ == "__main__":
    main()
